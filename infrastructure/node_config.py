"""The platform node's TOML file: the parties it hosts, their backends, and route policy.

```toml
[[parties]]
country_code = "NL"
party_id = "CPO"
role = "CPO"
backend_url = "http://127.0.0.1:9001/ocpi/versions"   # the backend's OCPI versions URL
backend_token = "a-long-shared-secret"                 # both ways between node and backend
[parties.business_details]
name = "Example CPO"

[[routes]]                # optional; most specific rule wins
counterpart = "DE*MSP"    # CC*PID or "*"
module = "locations"      # module id or "*"
policy = "direct"         # direct | hub | auto
```

Several parties may share one backend (same `backend_url`); they must then share its token.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from domain.errors import InvalidPartyError
from domain.route_choice import ANY, PolicyRule, RoutePolicy
from domain.values import PartyKey, PartyRef, Role

MIN_TOKEN_LENGTH = 16


class NodeConfigError(ValueError):
    """The config file is malformed; the message says where and what."""


@dataclass(frozen=True)
class LocalParty:
    key: PartyKey
    business_details: dict[str, Any]
    backend_url: str
    backend_token: str


@dataclass(frozen=True)
class Backend:
    """One backend process (a versions URL) and the parties it hosts."""

    versions_url: str
    token: str
    parties: tuple[PartyKey, ...]


@dataclass(frozen=True)
class NodeConfig:
    parties: tuple[LocalParty, ...] = ()
    routes: tuple[PolicyRule, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def backends(self) -> tuple[Backend, ...]:
        grouped: dict[str, list[LocalParty]] = {}
        for party in self.parties:
            grouped.setdefault(party.backend_url, []).append(party)
        return tuple(
            Backend(url, members[0].backend_token, tuple(p.key for p in members))
            for url, members in grouped.items()
        )


def load_node_config(path: str | Path) -> NodeConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise NodeConfigError(f"{path}: cannot read: {error.strerror}") from None
    return parse_node_config(text, source=str(path))


def parse_node_config(text: str, source: str = "config") -> NodeConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NodeConfigError(f"{source}: not valid TOML: {error}") from None
    unknown = set(raw) - {"parties", "routes"}
    if unknown:
        raise NodeConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
    parties = tuple(
        _party(entry, f"{source}: parties[{index}]")
        for index, entry in enumerate(_tables(raw, "parties", source))
    )
    _check_parties(parties, source)
    routes = tuple(
        _rule(entry, f"{source}: routes[{index}]")
        for index, entry in enumerate(_tables(raw, "routes", source))
    )
    return NodeConfig(parties=parties, routes=routes)


def _tables(raw: dict[str, Any], name: str, source: str) -> list[dict[str, Any]]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise NodeConfigError(f"{source}: {name} must be an array of tables ([[{name}]])")
    return value


def _text(entry: dict[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise NodeConfigError(f"{where}: {name} is required and must be a non-empty string")
    return value


def _party(entry: dict[str, Any], where: str) -> LocalParty:
    allowed = {"country_code", "party_id", "role", "business_details", "backend_url"}
    unknown = set(entry) - allowed - {"backend_token"}
    if unknown:
        raise NodeConfigError(f"{where}: unknown keys {sorted(unknown)}")
    role = _text(entry, "role", where).upper()
    if role not in {str(r) for r in Role} or role == Role.HUB:
        raise NodeConfigError(f"{where}: role {role!r} is not a role a platform hosts")
    try:
        key = PartyKey(
            _text(entry, "country_code", where), _text(entry, "party_id", where), Role(role)
        )
    except InvalidPartyError as error:
        raise NodeConfigError(f"{where}: {error}") from None
    details = entry.get("business_details", {"name": str(key.ref)})
    if not isinstance(details, dict) or not isinstance(details.get("name", ""), str):
        raise NodeConfigError(f"{where}: business_details must be a table with a string name")
    details = {"name": str(key.ref), **details}
    backend_url = _text(entry, "backend_url", where)
    parts = urlsplit(backend_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeConfigError(f"{where}: backend_url must be an http(s) URL, got {backend_url!r}")
    token = _text(entry, "backend_token", where)
    if len(token) < MIN_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise NodeConfigError(
            f"{where}: backend_token must be at least {MIN_TOKEN_LENGTH} printable characters "
            "without spaces"
        )
    return LocalParty(key, details, backend_url, token)


def _check_parties(parties: tuple[LocalParty, ...], source: str) -> None:
    seen: set[PartyKey] = set()
    tokens: dict[str, str] = {}
    for party in parties:
        if party.key in seen:
            raise NodeConfigError(f"{source}: party {party.key} is declared twice")
        seen.add(party.key)
        known = tokens.setdefault(party.backend_url, party.backend_token)
        if known != party.backend_token:
            raise NodeConfigError(
                f"{source}: parties of backend {party.backend_url} give different backend_tokens"
            )
    owners: dict[str, str] = {}
    for party in parties:
        other = owners.setdefault(party.backend_token, party.backend_url)
        if other != party.backend_url:
            # the token identifies the backend on egress: two backends cannot share one
            raise NodeConfigError(
                f"{source}: backends {other} and {party.backend_url} share a backend_token"
            )


def _rule(entry: dict[str, Any], where: str) -> PolicyRule:
    unknown = set(entry) - {"counterpart", "module", "policy"}
    if unknown:
        raise NodeConfigError(f"{where}: unknown keys {sorted(unknown)}")
    counterpart_text = entry.get("counterpart", ANY)
    module = entry.get("module", ANY)
    if not isinstance(counterpart_text, str) or not isinstance(module, str) or not module:
        raise NodeConfigError(f"{where}: counterpart and module must be strings")
    try:
        counterpart: PartyRef | str = (
            ANY if counterpart_text == ANY else PartyRef.parse(counterpart_text)
        )
    except InvalidPartyError as error:
        raise NodeConfigError(f"{where}: counterpart: {error}") from None
    try:
        policy = RoutePolicy(_text(entry, "policy", where).lower())
    except ValueError:
        choices = ", ".join(p.value for p in RoutePolicy)
        raise NodeConfigError(f"{where}: policy must be one of {choices}") from None
    return PolicyRule(counterpart, module if module == ANY else module.lower(), policy)
