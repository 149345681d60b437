"""The backends of the parties a platform node hosts: who they are, where their modules live.

A backend (the software of one or more hosted parties) is known by its OCPI versions URL and a
token both sides use. The node reads each backend's module URLs from its 2.2.1 version details
(as it would a peer's) instead of guessing a URL layout, and presents the backend token when it
delivers to it. A backend calling the node (egress, async results) is recognised by that token.

Decisions:
* Module URLs are read once (at start) and kept; a backend that could not be read yet is read
  again in the background the next time a message needs it, and that message is refused
  (4003) with the reason instead of waiting.
* Custom modules (ids outside OCPI) a backend publishes are kept like OCPI ones; the node lists
  them in its own version details so peers can discover them (`custom_interfaces`). An
  identifier that is not a valid custom module id is ignored there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from application.delivery import Target
from application.tokens import hash_token
from domain.errors import InvalidOperationError
from domain.values import (
    CustomModuleId,
    InterfaceRole,
    PartyKey,
    PartyRef,
    Way,
    parse_module_id,
)

Endpoints = Mapping[tuple[str, str], str]
"""(module, interface role upper-case) -> URL, as a backend's version details publish them."""


@dataclass(frozen=True)
class LocalBackend:
    versions_url: str
    token: str
    parties: tuple[PartyKey, ...]

    def hosts(self, ref: PartyRef) -> bool:
        return any(key.ref == ref for key in self.parties)


class LocalBackends:
    """Hosted backends by token, party and versions URL, with their discovered module URLs."""

    def __init__(
        self,
        backends: Iterable[LocalBackend] = (),
        rediscover: Callable[[LocalBackend], None] = lambda _: None,
    ) -> None:
        self._all = tuple(backends)
        self._by_token_hash = {hash_token(b.token): b for b in self._all}
        self._by_url = {b.versions_url: b for b in self._all}
        self._by_party = {key.ref: b for b in self._all for key in b.parties}
        self._endpoints: dict[str, Endpoints] = {}
        self._rediscover = rediscover

    def __bool__(self) -> bool:
        return bool(self._all)

    def all(self) -> tuple[LocalBackend, ...]:
        return self._all

    def by_token(self, tokens: Iterable[str]) -> LocalBackend | None:
        if not self._all:
            return None
        for token in tokens:
            backend = self._by_token_hash.get(hash_token(token))
            if backend is not None:
                return backend
        return None

    def hosting(self, ref: PartyRef) -> LocalBackend | None:
        return self._by_party.get(ref)

    def discovered(self, backend: LocalBackend, endpoints: Endpoints) -> None:
        self._endpoints[backend.versions_url] = dict(endpoints)

    def custom_interfaces(self) -> list[tuple[CustomModuleId, InterfaceRole]]:
        """The custom modules and interfaces the hosted backends publish, sorted, each once."""
        found: set[tuple[CustomModuleId, InterfaceRole]] = set()
        for endpoints in self._endpoints.values():
            for identifier, role in endpoints:
                try:
                    module = parse_module_id(identifier)
                    interface = InterfaceRole(role)
                except (InvalidOperationError, ValueError):
                    continue
                if isinstance(module, CustomModuleId):
                    found.add((module, interface))
        return sorted(found)

    def knows_endpoints(self, backend: LocalBackend) -> bool:
        return backend.versions_url in self._endpoints

    def target(
        self, party: PartyRef, backend_url: str | None, module: str, interface: str
    ) -> Target | str:
        """The backend of `party` for module/interface, or why there is none."""
        backend = self._by_url.get(backend_url or "") or self.hosting(party)
        if backend is None:
            return f"{party} is hosted here but no backend is configured for it"
        endpoints = self._endpoints.get(backend.versions_url)
        if endpoints is None:
            self._rediscover(backend)
            return f"the module URLs of {party}'s backend {backend.versions_url} are not known yet"
        url = endpoints.get((str(module), str(interface).upper()))
        if url is None:
            return f"{party}'s backend publishes no {module} {str(interface).upper()} endpoint"
        return Target(
            party=party, route_key=Way.LOCAL, kind=Way.LOCAL, endpoint_url=url, token=backend.token
        )

    def callback_target(self, party: PartyRef, url: str) -> Target | None:
        """An async result back to the backend of `party`, at the URL it gave."""
        backend = self.hosting(party)
        if backend is None:
            return None
        return Target(
            party=party, route_key=Way.LOCAL, kind=Way.LOCAL, endpoint_url=url, token=backend.token
        )
