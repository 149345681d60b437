"""A hub node served in-process (uvicorn in a thread) with platforms connected to it directly
through the Registry (no credentials handshake), and readers of what its ledger recorded."""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from api.app import create_app
from api.node import Node
from application.tokens import hash_token, new_token
from domain.message_steps import step_events
from domain.messages import message_id
from domain.values import OCPI_VERSION, PartyRef, Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.settings import Settings
from tests.support.fake_platform import FakePlatform
from tests.support.servers import ServerThread

HUB = PartyRef("NL", "HUB")
_party_numbers = itertools.count()


def new_party_id() -> str:
    """A party id no other party of the test session uses (3 letters/digits)."""
    number = next(_party_numbers)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(alphabet[(number // 36**i) % 36] for i in (2, 1, 0))


@dataclass
class Peer:
    """A platform connected to the hub, with the token it calls the hub with."""

    hub: HubUnderTest
    platform: FakePlatform
    connection_id: UUID
    token: str
    outbound_token: str
    parties: list[PartyRef]
    version: str = OCPI_VERSION

    @property
    def party(self) -> PartyRef:
        return self.parties[0]

    def call(
        self,
        method: str,
        module: str,
        interface: str,
        path: str = "",
        *,
        to: PartyRef | None = None,
        from_: PartyRef | None = None,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        """Call the hub as this platform: FROM = its first party unless given, TO as given."""
        sender = from_ or self.party
        sent = {
            "authorization": "Token " + base64.b64encode(self.token.encode()).decode(),
            "x-request-id": request_id or str(uuid.uuid4()),
            "x-correlation-id": str(uuid.uuid4()),
            "ocpi-from-country-code": sender.country_code,
            "ocpi-from-party-id": sender.party_id,
        }
        if to is not None:
            sent["ocpi-to-country-code"] = to.country_code
            sent["ocpi-to-party-id"] = to.party_id
        content = json.dumps(body).encode() if isinstance(body, dict) else body
        if content is not None:
            sent["content-type"] = "application/json"
        if self.version == "2.1.1":
            # OCPI 2.1.1 has no routing headers (X-Request-ID stays: the tests' handle)
            sent = {k: v for k, v in sent.items() if k == "authorization" or k == "x-request-id"}
        sent.update(headers or {})
        target = url or f"{self.hub.url}/ocpi/{self.version}/{module}/{interface}{path}"
        return self.hub.client.request(method, target, headers=sent, content=content)

    def expected_authorization(self) -> str:
        return "Token " + base64.b64encode(self.outbound_token.encode()).decode()


class HubUnderTest:
    def __init__(self, database: DatabaseUrl, forward_timeout: float = 2.0, **settings: Any):
        self._server: ServerThread | None = None
        self.platforms: list[FakePlatform] = []
        self.database = database
        self.forward_timeout = forward_timeout
        self.extra_settings = settings
        self.client = httpx.Client(timeout=30)

    def start(self) -> HubUnderTest:
        placeholder = ServerThread(None)
        settings = Settings(
            database=self.database,
            base_url=placeholder.url,
            admin_token="hub-admin-token-0123456789",
            mode="hub",
            party=HUB,
            forward_timeout=self.forward_timeout,
            **self.extra_settings,
        )
        placeholder.set_app(create_app(settings, announce_admin_token=lambda _token: None))
        self._server = placeholder.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    @property
    def node(self) -> Node:
        assert self._server is not None
        return self._server.app.state.node

    def run(self, coroutine: Any) -> Any:
        assert self._server is not None
        return self._server.run(coroutine)

    def connect(
        self,
        *roles: Role,
        platform: FakePlatform | None = None,
        party_ids: list[str] | None = None,
        endpoints: list[dict[str, str]] | None = None,
        encoding: str = "base64",
        version: str = OCPI_VERSION,
    ) -> Peer:
        """Register a platform hosting one party per role (fresh party ids unless given), on a
        connection of OCPI `version` (2.1.1: one party, endpoints without interface roles)."""
        if platform is None:
            platform = FakePlatform().start()
            self.platforms.append(platform)
        ids = party_ids or [new_party_id() for _ in roles]
        registry = self.node.registry
        connection_id, _token_a, _ = registry.invite(platform.name)
        token, outbound = new_token(), new_token()
        role_dicts = [
            {
                "role": str(role),
                "country_code": "NL",
                "party_id": party_id,
                "business_details": {"name": f"{role} {party_id}"},
            }
            for role, party_id in zip(roles, ids, strict=True)
        ]
        if endpoints is None:
            endpoints = platform.endpoints_for(*roles)
            if version == "2.1.1":
                endpoints = [{k: v for k, v in e.items() if k != "role"} for e in endpoints]
        refused, position = registry.register_connection(
            connection_id,
            version,
            f"{platform.url}/ocpi/versions",
            endpoints,
            role_dicts,
            hash_token(token),
            outbound,
            encoding,
        )
        assert not refused, refused
        self.node.wait_for_registry(position)
        parties = [PartyRef("NL", party_id) for party_id in ids]
        return Peer(self, platform, connection_id, token, outbound, parties, version)

    def suspend(self, peer: Peer) -> None:
        position = self.node.registry.suspend_connection(peer.connection_id, "test")
        self.node.wait_for_registry(position)

    def take_offline(self, peer: Peer) -> None:
        position = self.node.registry.mark_connection_offline(peer.connection_id, "test")
        self.node.wait_for_registry(position)

    # ---- the ledger ------------------------------------------------------------------------

    def events(self, peer: Peer, request_id: str, attempt: int = 0) -> list[Any]:
        """The message's steps (Received, Routed, ...; domain.message_steps), in order."""
        stored = self.stored_events(peer, request_id, attempt)
        return [step for event in stored for step in step_events(event)]

    def stored_events(self, peer: Peer, request_id: str, attempt: int = 0) -> list[Any]:
        # Outcomes may be committed after the answer (a broadcast's legs; the `behind` mode):
        # read once the queued ones are committed.
        self.node.committer.flush()
        identifier = message_id(str(peer.connection_id), request_id, attempt)
        return list(self.node.ledger.repository.event_store.get(identifier))

    def verify_ledger(self) -> Any:
        """The chain verification of everything recorded so far, queued outcomes included."""
        from infrastructure.ledger_chain import verify_ledger

        self.node.committer.flush()
        return verify_ledger(self.node.services.ledger_archive)

    def event_names(self, peer: Peer, request_id: str, attempt: int = 0) -> list[str]:
        return [type(event).__name__ for event in self.events(peer, request_id, attempt)]

    def wait_for_events(
        self,
        peer: Peer,
        request_id: str,
        done: Callable[[list[str]], bool],
        timeout: float = 5.0,
    ) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(peer, request_id)
            if done([type(event).__name__ for event in events]):
                return events
            if time.monotonic() > deadline:
                names = [type(event).__name__ for event in events]
                raise AssertionError(f"ledger holds {names} for {request_id}")
            time.sleep(0.02)

    def body(self, sha256: str) -> bytes:
        row = self.node.store.ledger_db.query_one(
            "SELECT body FROM message_bodies WHERE sha256 = %s", (sha256,)
        )
        assert row is not None, f"no body {sha256}"
        return bytes(row["body"])

    def stop(self) -> None:
        self.client.close()
        if self._server is not None:
            self._server.stop()
        for platform in self.platforms:
            platform.stop()

    def __enter__(self) -> HubUnderTest:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
