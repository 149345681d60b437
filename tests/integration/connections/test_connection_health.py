"""Still-alive checks: a silent peer whose versions endpoint fails goes OFFLINE, then back."""

from __future__ import annotations

from uuid import UUID

from domain.values import ConnectionStatus, PartyRef
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_peer import fake_platform, party
from tests.support.nodes import running_node
from tests.support.servers import wait_for


def test_a_silent_peer_goes_offline_and_comes_back(database_url: DatabaseUrl) -> None:
    with (
        running_node(database_url, health_check_interval="0.3") as hub,
        fake_platform(party("CPO", "NL", "CP1")) as peer,
    ):
        created = hub.admin("POST", "/invitations", json={"label": "p"}).json()
        peer.register_with(hub.versions_url, created["token_a"])
        table = hub.node.routing_table
        wait_for(lambda: peer.versions_calls >= 3, message="still-alive probes")
        assert table.connection(created["id"]).status is ConnectionStatus.CONNECTED
        peer.versions_fault = "500"
        wait_for(
            lambda: (
                {r.status for r in table.routes_to(PartyRef("NL", "CP1"))}
                == {ConnectionStatus.OFFLINE}
            ),
            message="offline",
        )
        peer.versions_fault = None
        wait_for(
            lambda: table.connection(created["id"]).status is ConnectionStatus.CONNECTED,
            message="online again",
        )
        names = [
            type(e).__name__
            for e in hub.node.registry.repository.event_store.get(UUID(created["id"]))
        ]
        assert names[-2:] == ["WentOffline", "CameOnline"]
