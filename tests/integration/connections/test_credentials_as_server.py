"""A peer registers with our node (digest §4.3): real HTTP both ways, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from domain.values import PartyRef
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_peer import fake_platform, party, token_header
from tests.support.nodes import RunningNode, running_node


@pytest.fixture
def hub(database_url: DatabaseUrl) -> Iterator[RunningNode]:
    with running_node(database_url, mode="hub", party="NL*HUB", forward_timeout="1") as node:
        yield node


def invite(hub: RunningNode, label: str = "peer") -> tuple[str, str]:
    created = hub.admin("POST", "/invitations", json={"label": label}).json()
    return created["id"], created["token_a"]


def credentials_url(hub: RunningNode) -> str:
    return f"{hub.url}/ocpi/2.2.1/credentials"


def post_raw(hub: RunningNode, token_a: str, content: bytes) -> httpx.Response:
    headers = {**token_header(token_a), "Content-Type": "application/json"}
    return httpx.post(credentials_url(hub), headers=headers, content=content, timeout=30)


def test_a_platform_registers_with_token_a_and_gets_token_c(hub: RunningNode) -> None:
    roles = [party("CPO", "NL", "CP1"), party("EMSP", "NL", "CP1")]
    with fake_platform(*roles) as platform:
        connection_id, token_a = invite(hub)
        response = platform.register_with(hub.versions_url, token_a)
        body = response.json()
        assert response.status_code == 200 and body["status_code"] == 1000
        assert body["data"]["roles"] == [
            {
                "role": "HUB",
                "party_id": "HUB",
                "country_code": "NL",
                "business_details": {"name": "ocpi-ledger hub NL*HUB"},
            }
        ]
        assert body["data"]["url"] == hub.versions_url
        assert platform.call_node("GET", credentials_url(hub)).json()["data"]["token"] == (
            platform.outbound
        )
        old = httpx.get(hub.versions_url, headers=token_header(token_a))
        assert old.status_code == 401
    routes = hub.node.routing_table.routes_to(PartyRef("NL", "CP1"))
    assert {str(r.party.role) for r in routes} == {"CPO", "EMSP"}
    assert hub.events(connection_id) == ["Opened", "Registered"]
    view = hub.admin("GET", f"/connections/{connection_id}").json()
    assert view["status"] == "CONNECTED" and len(view["parties"]) == 2


def test_posting_again_or_updating_before_registering_answers_405(hub: RunningNode) -> None:
    with fake_platform(party("CPO", "NL", "CP1")) as platform:
        _id, token_a = invite(hub)
        platform.register_with(hub.versions_url, token_a)
        again = platform.call_node(
            "POST", credentials_url(hub), json=platform.credentials("x" * 10)
        )
        assert again.status_code == 405
        _other, token_a2 = invite(hub, "other")
        for method in ("PUT", "DELETE"):
            response = httpx.request(
                method,
                credentials_url(hub),
                headers=token_header(token_a2),
                json=platform.credentials("y" * 10),
            )
            assert response.status_code == 405, method


def test_a_raw_token_peer_is_answered_raw(hub: RunningNode) -> None:
    with fake_platform(party("EMSP", "DE", "EM1"), raw_tokens=True) as platform:
        connection_id, token_a = invite(hub)
        response = platform.register_with(hub.versions_url, token_a)
        assert response.json()["status_code"] == 1000
        assert hub.node.routing_table.connection(connection_id).outbound_token_encoding == "raw"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"url": "http://x/versions", "roles": []}', "token"),
        (b'{"token": 42, "url": "http://x/v", "roles": []}', "token"),
        (b'{"token": "abc", "url": "http://x/v", "roles": "CPO"}', "roles"),
        (
            b'{"token": "abc", "url": "http://x/v", "roles": [{"role": "KING", "party_id": "ABC",'
            b' "country_code": "NL", "business_details": {"name": "n"}}]}',
            "roles[0].role",
        ),
        (
            b'{"token": "abc", "url": "http://x/v", "roles": [{"role": "CPO", "party_id": "ABCD",'
            b' "country_code": "NL", "business_details": {"name": "n"}}]}',
            "party_id",
        ),
    ],
)
def test_malformed_credentials_get_400_and_2001_and_register_nothing(
    hub: RunningNode, content: bytes, problem: str
) -> None:
    connection_id, token_a = invite(hub)
    response = post_raw(hub, token_a, content)
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001
    assert problem in response.json()["status_message"]
    assert token_a not in response.text
    assert "Registered" not in hub.events(connection_id)
    assert hub.node.routing_table.connection(connection_id).version is None


@pytest.mark.parametrize(
    ("fault", "status_code"),
    [
        ("down", 3001),
        ("slow", 3001),
        ("garbage", 3001),
        ("500", 3001),
        ("no-2.2.1", 3002),
        ("no-credentials", 3003),
    ],
)
def test_a_peer_we_cannot_use_is_refused_and_may_retry_with_the_same_token_a(
    hub: RunningNode, fault: str, status_code: int
) -> None:
    with fake_platform(party("CPO", "NL", "CP9"), versions_fault=fault, slow_seconds=3) as platform:
        connection_id, token_a = invite(hub)
        body = platform.credentials("token-b-for-the-hub")
        platform.accepted.add("token-b-for-the-hub")
        if fault == "down":
            body["url"] = "http://127.0.0.1:9/ocpi/versions"
        response = httpx.post(
            credentials_url(hub), headers=token_header(token_a), json=body, timeout=30
        )
        assert response.status_code == 200
        assert response.json()["status_code"] == status_code
        assert "token-b-for-the-hub" not in response.text
        assert hub.events(connection_id) == ["Opened", "HandshakeFailed"]
        assert hub.node.routing_table.routes_to(PartyRef("NL", "CP9")) == []
        platform.versions_fault = None
        retry = platform.register_with(hub.versions_url, token_a)
        assert retry.json()["status_code"] == 1000
    assert hub.events(connection_id) == ["Opened", "HandshakeFailed", "Registered"]


def test_concurrent_posts_with_one_token_a_register_exactly_once(hub: RunningNode) -> None:
    attempts = 3
    with fake_platform(party("CPO", "NL", "CCC")) as platform:
        connection_id, token_a = invite(hub)
        platform.barrier = threading.Barrier(attempts)
        bodies = []
        for i in range(attempts):
            token = f"token-b-{i}"
            platform.accepted.add(token)
            bodies.append(platform.credentials(token))

        def post(body: dict[str, Any]) -> httpx.Response:
            return httpx.post(
                credentials_url(hub), headers=token_header(token_a), json=body, timeout=30
            )

        with ThreadPoolExecutor(attempts) as pool:
            responses = list(pool.map(post, bodies))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 405, 405]
    assert hub.events(connection_id) == ["Opened", "Registered"]


def test_the_peer_rotates_with_put_and_the_old_token_c_dies(hub: RunningNode) -> None:
    with fake_platform(party("CPO", "NL", "CP1")) as platform:
        connection_id, token_a = invite(hub)
        platform.register_with(hub.versions_url, token_a)
        old_c = platform.outbound
        platform.accepted.add("token-b-2")
        response = platform.call_node(
            "PUT", credentials_url(hub), json=platform.credentials("token-b-2")
        )
        assert response.json()["status_code"] == 1000
        new_c = response.json()["data"]["token"]
        assert new_c != old_c
        assert httpx.get(hub.versions_url, headers=token_header(old_c)).status_code == 401
        assert httpx.get(hub.versions_url, headers=token_header(new_c)).status_code == 200
        assert hub.node.routing_table.connection(connection_id).outbound_token == "token-b-2"
    assert hub.events(connection_id) == ["Opened", "Registered", "CredentialsUpdated"]


def test_the_peer_unregisters_with_delete_and_its_parties_stop_routing(hub: RunningNode) -> None:
    with fake_platform(party("CPO", "NL", "CP1")) as platform:
        connection_id, token_a = invite(hub)
        platform.register_with(hub.versions_url, token_a)
        token_c = platform.outbound
        assert platform.call_node("DELETE", credentials_url(hub)).json()["status_code"] == 1000
        assert httpx.get(hub.versions_url, headers=token_header(token_c)).status_code == 401
    assert hub.node.routing_table.routes_to(PartyRef("NL", "CP1")) == []
    assert hub.events(connection_id)[-1] == "Unregistered"


def test_roles_owned_by_another_connection_are_refused_and_named(hub: RunningNode) -> None:
    with (
        fake_platform(party("CPO", "NL", "CP1")) as first,
        fake_platform(party("CPO", "NL", "CP1"), party("EMSP", "NL", "EM2")) as second,
        fake_platform(party("CPO", "NL", "CP1")) as third,
    ):
        _first_id, token_a = invite(hub)
        first.register_with(hub.versions_url, token_a)
        second_id, token_a2 = invite(hub)
        partial = second.register_with(hub.versions_url, token_a2).json()
        assert partial["status_code"] == 1000
        assert "refused roles: NL*CP1/CPO" in partial["status_message"]
        third_id, token_a3 = invite(hub)
        refused = third.register_with(hub.versions_url, token_a3).json()
        assert refused["status_code"] == 2001
        assert "already registered" in refused["status_message"]
    assert hub.events(second_id) == ["Opened", "Registered", "PartyRefused"]
    assert hub.events(third_id) == ["Opened", "PartyRefused", "HandshakeFailed"]
    parties = {
        (p["party_id"], p["role"], p["connection_id"]) for p in hub.admin("GET", "/parties").json()
    }
    assert ("EM2", "EMSP", second_id) in parties
    assert not any(p[2] == third_id for p in parties)
