"""The interop world: our hub as a process, two extrawest-ocpi platforms as processes, registered.

One world per store (SQLite, PostgreSQL) and test module: starting three processes and
registering twice per test would triple the tier's time; each test uses objects of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import STORES, fresh_database
from tests.e2e.nodes import ADMIN_TOKEN, free_port, start_node, wait_until_serving
from tests.interop.extrawest import LibraryPeer, start_library_peer
from tests.support.servers import wait_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

# What the hub records for a message it took in, routed, sent on, heard back about and answered.
COMPLETE = ["Received", "Routed", "Forwarded", "Answered", "Responded"]


@dataclass
class World:
    hub: str
    cpo: LibraryPeer
    emsp: LibraryPeer
    connections: dict[str, str]  # party -> connection id

    @property
    def hub_details_url(self) -> str:
        return f"{self.hub}/ocpi/2.2.1"

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.hub}/admin{path}", headers=ADMIN, timeout=30, **kwargs)

    def hub_endpoint(self, module: str, interface: str) -> str:
        details = httpx.get(self.hub_details_url, headers=self.emsp.hub_authorization()).json()
        (url,) = [
            e["url"]
            for e in details["data"]["endpoints"]
            if e["identifier"] == module and e["role"] == interface
        ]
        return str(url)

    def get_locations(self, path: str, request_id: str) -> httpx.Response:
        """The eMSP GETs the CPO's locations (`path` after the endpoint) through the hub. Sent
        by the test: the library has no GET client."""
        url = self.hub_endpoint("locations", "SENDER") + path
        return httpx.get(url, headers=routed_headers(self.emsp, self.cpo, request_id), timeout=30)

    def messages(self, sender: LibraryPeer, module: str) -> list[dict[str, Any]]:
        """What the audit view holds of the messages `sender`'s connection sent for `module`."""
        return self._find(connection=self.connections[sender.party], module=module)

    def _find(self, **params: str) -> list[dict[str, Any]]:
        answer = self.admin("GET", "/messages", params={**params, "limit": 100})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["data"]["messages"])

    def settled(self, find: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
        """The one message `find` finds, once the audit view (which follows the ledger a moment
        behind) has its outcome."""
        deadline = time.monotonic() + 10
        while True:
            found = find()
            if len(found) == 1 and found[0]["outcome"] != "pending":
                return found[0]
            if time.monotonic() > deadline:
                assert len(found) == 1, f"expected one message, found {found}"
                return found[0]
            time.sleep(0.05)

    def the_message(
        self, sender: LibraryPeer, module: str, method: str, object_id: str | None = None
    ) -> dict[str, Any]:
        return self.settled(
            lambda: [
                m
                for m in self.messages(sender, module)
                if m["method"] == method
                and (object_id is None or (m["object_id"] or "").lower() == object_id.lower())
            ]
        )

    def by_request_id(self, sender: LibraryPeer, request_id: str) -> dict[str, Any]:
        connection = self.connections[sender.party]
        return self.settled(lambda: self._find(connection=connection, request_id=request_id))

    def events_of(self, message_id: str) -> list[str]:
        answer = self.admin("GET", f"/messages/{message_id}")
        assert answer.status_code == 200, answer.text
        return [step["event"] for step in answer.json()["data"]["events"]]

    def assert_complete(self, message: dict[str, Any]) -> None:
        assert message["outcome"] == "success", message
        assert message["ocpi_status"] == 1000, message

        # Received, Routed, Forwarded in this order, then every leg's answer and the response:
        # a broadcast is answered as soon as its fan-out is recorded, its legs' answers follow.
        def complete() -> list[str] | None:
            names = self.events_of(message["id"])
            done = names[:3] == COMPLETE[:3] and set(COMPLETE[3:]) <= set(names[3:])
            return names if done else None

        wait_for(complete, timeout=10, message=f"a complete record of {message['id']}")


def routed_headers(sender: LibraryPeer, receiver: LibraryPeer, request_id: str) -> dict[str, str]:
    return {
        **sender.hub_authorization(),
        "X-Request-ID": request_id,
        "X-Correlation-ID": f"corr-{request_id}",
        "OCPI-from-country-code": sender.country_code,
        "OCPI-from-party-id": sender.party_id,
        "OCPI-to-country-code": receiver.country_code,
        "OCPI-to-party-id": receiver.party_id,
    }


def connect_to(hub: str, peer: LibraryPeer) -> str:
    """The peer's operator hands the hub a token A; the hub's operator connects with it.
    Every step on the peer's side is the library's code (its POST /credentials handler)."""
    answer = httpx.post(
        f"{hub}/admin/connections",
        headers=ADMIN,
        json={"versions_url": peer.versions_url, "token_a": peer.token_a(), "label": peer.role},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def invite(hub: str, peer: LibraryPeer) -> str:
    """The hub's operator invites the peer (token A); the peer registers with it."""
    invitation = httpx.post(
        f"{hub}/admin/invitations", headers=ADMIN, json={"label": peer.role}, timeout=30
    )
    assert invitation.status_code == 201, invitation.text
    created = invitation.json()
    registered = peer.accept_invitation(created["versions_url"], created["token_a"])
    assert registered["body"]["status_code"] == 1000, registered
    return str(created["id"])


def running_world(
    kind: str, tmp_path_factory: pytest.TempPathFactory, *, trailing_slash: bool
) -> Iterator[World]:
    """A hub on a fresh `kind` store with a library CPO (NL*EXC or, without trailing slashes,
    NL*EXS) and eMSP (DE*EXE or DE*EXT), both registered."""
    for database_url in fresh_database(kind, tmp_path_factory):
        port = free_port()
        hub_process = start_node(database_url, port)
        peers: list[LibraryPeer] = []
        try:
            wait_until_serving(port, hub_process)
            hub = f"http://127.0.0.1:{port}"
            cpo_id, emsp_id = ("EXC", "EXE") if trailing_slash else ("EXS", "EXT")
            peers.append(start_library_peer("CPO", "NL", cpo_id, trailing_slash=trailing_slash))
            peers.append(start_library_peer("EMSP", "DE", emsp_id, trailing_slash=trailing_slash))
            cpo, emsp = peers
            # Both ways in: the hub connects to the CPO with its token A and invites the eMSP.
            # A CPO without trailing slashes cannot be connected to today (its credentials URL
            # answers 307, test_extrawest_without_trailing_slashes.py), so it is invited too.
            cpo_connection = connect_to(hub, cpo) if trailing_slash else invite(hub, cpo)
            connections = {cpo.party: cpo_connection, emsp.party: invite(hub, emsp)}
            yield World(hub, cpo, emsp, connections)
        finally:
            for peer in peers:
                peer.stop()
            hub_process.terminate()
            hub_process.communicate(timeout=10)


@pytest.fixture(scope="module", params=STORES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from running_world(request.param, tmp_path_factory, trailing_slash=True)


@pytest.fixture(scope="module", params=STORES)
def slashless_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The same platforms with the library's TRAILING_SLASH setting off."""
    yield from running_world(request.param, tmp_path_factory, trailing_slash=False)
