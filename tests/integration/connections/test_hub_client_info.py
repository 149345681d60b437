"""A hub with three platforms of mixed roles: the client info list, and pushes of changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.values import ConnectionStatus, PartyRef
from infrastructure.database_url import DatabaseUrl
from tests.conftest import drop_schema
from tests.e2e.test_connecting_nodes import sibling
from tests.support.fake_peer import fake_platform, party
from tests.support.nodes import RunningNode, running_node
from tests.support.servers import wait_for


@pytest.fixture
def hub(database_url: DatabaseUrl) -> Iterator[RunningNode]:
    with running_node(database_url, mode="hub", party="NL*HUB") as node:
        yield node


@pytest.fixture
def platform_node(database_url: DatabaseUrl) -> Iterator[RunningNode]:
    url = sibling(database_url)
    try:
        with running_node(url, mode="platform", party="BE*PL3") as node:
            yield node
    finally:
        if url.is_postgres:
            drop_schema(url)


def register(hub: RunningNode, platform: object) -> str:
    created = hub.admin("POST", "/invitations", json={"label": "p"}).json()
    response = platform.register_with(hub.versions_url, created["token_a"])  # type: ignore[attr-defined]
    assert response.json()["status_code"] == 1000
    return str(created["id"])


def hub_route_status(node: RunningNode, ref: PartyRef) -> set[ConnectionStatus]:
    return {r.status for r in node.node.routing_table.routes_to(ref) if r.kind == "hub"}


def test_client_info_lists_other_parties_and_status_changes_reach_every_other_platform(
    hub: RunningNode, platform_node: RunningNode
) -> None:
    with (
        fake_platform(party("CPO", "NL", "CP1"), party("EMSP", "NL", "EM1")) as p1,
        fake_platform(party("CPO", "DE", "CP2")) as p2,
    ):
        register(hub, p1)
        p2_id = register(hub, p2)
        invitation = hub.admin("POST", "/invitations", json={"label": "p3"}).json()
        connected = platform_node.admin(
            "POST",
            "/connections",
            json={"versions_url": invitation["versions_url"], "token_a": invitation["token_a"]},
        )
        assert connected.status_code == 201, connected.text

        listing = p1.call_node("GET", f"{hub.url}/ocpi/2.2.1/hubclientinfo?limit=1")
        assert listing.headers["x-total-count"] == "2" and listing.headers["x-limit"] == "100"
        assert 'rel="next"' in listing.headers["link"] and "offset=1" in listing.headers["link"]
        everything = p1.call_node("GET", f"{hub.url}/ocpi/2.2.1/hubclientinfo").json()["data"]
        assert {(i["country_code"], i["party_id"], i["role"]) for i in everything} == {
            ("DE", "CP2", "CPO"),
            ("BE", "PL3", "OTHER"),
        }
        assert all(i["status"] == "CONNECTED" for i in everything)

        # p2 got the full list when it registered; p1 heard of p2 and the platform node.
        wait_for(lambda: ("NL", "EM1") in p2.client_info, message="full list to p2")
        wait_for(lambda: ("BE", "PL3") in p1.client_info, message="push to p1")
        wait_for(lambda: hub_route_status(platform_node, PartyRef("DE", "CP2")), message="p3")

        hub.admin("POST", f"/connections/{p2_id}/suspend", json={"reason": "contract ended"})
        wait_for(
            lambda: p1.client_info.get(("DE", "CP2"), {}).get("status") == "SUSPENDED",
            message="suspension reaches p1",
        )
        wait_for(
            lambda: (
                hub_route_status(platform_node, PartyRef("DE", "CP2"))
                == {ConnectionStatus.SUSPENDED}
            ),
            message="suspension reaches the platform node",
        )
        assert all(info["country_code"] != "DE" for info in p2.pushes)


def test_the_receiver_refuses_bad_client_info(platform_node: RunningNode) -> None:
    with fake_platform(party("HUB", "NL", "HUB")) as fake_hub:
        created = platform_node.admin("POST", "/invitations", json={"label": "hub"}).json()
        fake_hub.register_with(platform_node.versions_url, created["token_a"])
        url = f"{platform_node.url}/ocpi/2.2.1/hubclientinfo/NL/CP1"
        info = {
            "country_code": "NL",
            "party_id": "CP1",
            "role": "CPO",
            "status": "PLANNED",
            "last_updated": "2024-01-01T00:00:00Z",
        }
        assert fake_hub.call_node("PUT", url, json=info).json()["status_code"] == 1000
        stored = fake_hub.call_node("GET", url).json()["data"]
        assert (stored["party_id"], stored["status"]) == ("CP1", "PLANNED")
        other = fake_hub.call_node("PUT", url, json={**info, "party_id": "XXX"})
        assert other.json()["status_code"] == 2001
        broken = fake_hub.call_node(
            "PUT", url, content=b"{", headers={"content-type": "application/json"}
        )
        assert (broken.status_code, broken.json()["status_code"]) == (400, 2001)
        assert fake_hub.call_node("GET", url.replace("CP1", "ZZZ")).status_code == 404
