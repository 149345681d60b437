"""The credentials handshake in OCPI 2.1.1 and 2.3.0, both directions, against simulated platforms
of those versions (real HTTP both ways, on both stores); versions digest §10."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.cli import main
from domain.values import PartyKey, Role
from infrastructure.database_url import DatabaseUrl
from simulator import SimConfig, SimParty, create_app, start_in_thread
from simulator.server import RunningServer
from simulator.state import Peer
from tests.e2e.nodes import ADMIN_TOKEN
from tests.support.nodes import RunningNode, running_node

CPO_211 = SimParty("NL", "CPO", "CPO", "2.1.1 CPO")
EMSP_211 = SimParty("BE", "EMS", "EMSP", "2.1.1 eMSP")
EMSP_230 = SimParty("DE", "MSP", "EMSP", "2.3.0 eMSP")
EMSP_221 = SimParty("FR", "MSP", "EMSP", "2.2.1 eMSP")
PTP = SimParty("DE", "PTP", "PTP", "payment terminal provider")


@pytest.fixture
def hub(database_url: DatabaseUrl) -> Iterator[RunningNode]:
    with running_node(database_url, mode="hub", party="NL*HUB", forward_timeout="2") as node:
        yield node


class Platforms:
    """Simulated platforms of a given version, stopped after the test."""

    def __init__(self) -> None:
        self.servers: list[RunningServer] = []

    def start(self, party: SimParty, version: str, token_a: str | None = None) -> Any:
        app = create_app(SimConfig(parties=[party], ocpi_version=version, token_a=token_a))
        server = start_in_thread(app)
        self.servers.append(server)
        app.state.sim.config.public_url = server.url
        return server, app.state.sim


@pytest.fixture
def platforms() -> Iterator[Platforms]:
    started = Platforms()
    yield started
    for server in started.servers:
        server.stop()


def token_header(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def invite(hub: RunningNode, **proposal: str) -> tuple[str, str]:
    response = hub.admin("POST", "/invitations", json={"label": "peer", **proposal})
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], created["token_a"]


def connect(hub: RunningNode, server: RunningServer, **proposal: str) -> httpx.Response:
    """The hub registers with a simulated platform that issued it "token-a-for-the-hub"."""
    body = {"versions_url": f"{server.url}/ocpi/versions", "token_a": "token-a-for-the-hub"}
    return hub.admin("POST", "/connections", json={**body, **proposal})


def register(sim: Any, hub: RunningNode, token_a: str) -> Peer:
    peer: Peer = asyncio.run(sim.register(hub.versions_url, token_a))
    return peer


def test_the_hub_lists_all_three_versions(hub: RunningNode) -> None:
    _id, token_a = invite(hub)

    listed = httpx.get(hub.versions_url, headers=token_header(token_a)).json()["data"]

    assert listed == [
        {"version": v, "url": f"{hub.url}/ocpi/{v}"} for v in ("2.1.1", "2.2.1", "2.3.0")
    ]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "CPO",
            {"credentials", "cdrs/receiver", "locations/receiver", "sessions/receiver",
             "tariffs/receiver", "tokens/sender"},
        ),
        (
            "EMSP",
            {"credentials", "cdrs/sender", "commands/receiver", "locations/sender",
             "sessions/sender", "tariffs/sender", "tokens/receiver"},
        ),
    ],
)  # fmt: skip
def test_211_version_details_list_the_one_interface_per_module_the_peer_calls(
    hub: RunningNode, role: str, expected: set[str]
) -> None:
    _id, token_a = invite(hub, ocpi_version="2.1.1", role=role)

    details = httpx.get(f"{hub.url}/ocpi/2.1.1", headers=token_header(token_a)).json()["data"]

    assert details["version"] == "2.1.1"
    assert all(set(e) == {"identifier", "url"} for e in details["endpoints"])
    paths = {e["url"].removeprefix(f"{hub.url}/ocpi/2.1.1/") for e in details["endpoints"]}
    assert paths == expected


def test_230_version_details_add_payments_to_what_221_lists(hub: RunningNode) -> None:
    _id, token_a = invite(hub)

    def pairs(version: str) -> set[tuple[str, str]]:
        data = httpx.get(f"{hub.url}/ocpi/{version}", headers=token_header(token_a)).json()
        return {(e["identifier"], e["role"]) for e in data["data"]["endpoints"]}

    assert pairs("2.3.0") - pairs("2.2.1") == {("payments", "SENDER"), ("payments", "RECEIVER")}
    assert ("hubclientinfo", "SENDER") in pairs("2.3.0")


def test_a_211_cpo_registers_with_the_hub_as_one_party_of_the_invited_role(
    hub: RunningNode, platforms: Platforms
) -> None:
    _server, sim = platforms.start(CPO_211, "2.1.1")
    connection_id, token_a = invite(hub, ocpi_version="2.1.1", role="CPO")

    peer = register(sim, hub, token_a)

    entry = hub.node.routing_table.connection(connection_id)
    assert entry.version == "2.1.1"
    assert entry.roles == (PartyKey("NL", "CPO", Role.CPO),)
    # the CPO's 2.1.1 endpoints say no interface; the hub knows them from its role
    assert entry.endpoint_url("locations", "SENDER").endswith("/ocpi/cpo/2.1.1/locations")
    assert entry.endpoint_url("commands", "RECEIVER").endswith("/ocpi/cpo/2.1.1/commands")
    # the hub answered in 2.1.1's shape: one party, no roles
    assert peer.roles == [
        {"role": None, "country_code": "NL", "party_id": "HUB",
         "business_details": {"name": "ocpi-ledger hub NL*HUB"}},
    ]  # fmt: skip
    assert peer.endpoints[("locations", "RECEIVER")] == f"{hub.url}/ocpi/2.1.1/locations/receiver"
    assert hub.events(connection_id) == ["Opened", "VersionProposed", "Registered"]
    view = hub.admin("GET", f"/connections/{connection_id}").json()
    assert (view["version"], view["proposed_version"], view["proposed_role"]) == (
        "2.1.1",
        "2.1.1",
        "CPO",
    )


def test_the_hub_registers_with_a_211_emsp_when_told_its_role(
    hub: RunningNode, platforms: Platforms
) -> None:
    server, sim = platforms.start(EMSP_211, "2.1.1", token_a="token-a-for-the-hub")

    response = connect(hub, server, ocpi_version="2.1.1", role="EMSP")

    assert response.status_code == 201, response.text
    view = response.json()
    entry = hub.node.routing_table.connection(view["id"])
    assert entry.version == "2.1.1"
    assert entry.roles == (PartyKey("BE", "EMS", Role.EMSP),)
    assert entry.endpoint_url("tokens", "SENDER").endswith("/ocpi/emsp/2.1.1/tokens")
    assert entry.outbound_token_encoding == "raw"  # 2.1.1 tokens travel un-encoded
    (their_view,) = sim.peers.values()
    assert their_view.roles[0]["party_id"] == "HUB" and their_view.version == "2.1.1"


def test_the_hub_refuses_to_guess_the_role_of_a_211_only_peer_and_records_it(
    hub: RunningNode, platforms: Platforms
) -> None:
    server, _sim = platforms.start(EMSP_211, "2.1.1", token_a="token-a-for-the-hub")

    response = connect(hub, server)

    assert response.status_code == 502
    assert response.json()["status_code"] == 3002
    assert "role" in response.json()["status_message"]
    (entry,) = hub.node.routing_table_view.connections()
    assert entry.version is None
    assert hub.events(entry.id)[-1] == "HandshakeFailed"


def test_a_230_emsp_registers_and_gets_the_hub_named_in_hub_party_id(
    hub: RunningNode, platforms: Platforms
) -> None:
    _server, cpo_sim = platforms.start(CPO_211, "2.1.1")
    _cpo_id, cpo_token_a = invite(hub, ocpi_version="2.1.1", role="CPO")
    register(cpo_sim, hub, cpo_token_a)
    _server, sim = platforms.start(EMSP_230, "2.3.0")
    connection_id, token_a = invite(hub)

    asyncio.run(sim.register(hub.versions_url, token_a))

    entry = hub.node.routing_table.connection(connection_id)
    assert entry.version == "2.3.0"
    assert entry.roles == (PartyKey("DE", "MSP", Role.EMSP),)
    # 2.3.0: the hub names itself in hub_party_id and lists the parties reachable through it
    answered = httpx.get(
        f"{hub.url}/ocpi/2.3.0/credentials", headers=token_header(sim.peer().token_we_send)
    ).json()["data"]
    assert answered["hub_party_id"] == "NLHUB"
    assert [(r["country_code"], r["party_id"], r["role"]) for r in answered["roles"]] == [
        ("NL", "CPO", "CPO")
    ]
    assert sim.peer().endpoints[("locations", "RECEIVER")].startswith(f"{hub.url}/ocpi/2.3.0/")
    assert sim.peer().id == "NL*HUB"  # named by hub_party_id, not by a party behind the hub


def test_a_230_ptp_registers_and_the_hubs_230_credentials_name_it_to_other_230_peers(
    hub: RunningNode, platforms: Platforms
) -> None:
    _server, ptp_sim = platforms.start(PTP, "2.3.0")
    ptp_id, ptp_token_a = invite(hub)
    register(ptp_sim, hub, ptp_token_a)
    _server, sim = platforms.start(EMSP_230, "2.3.0")
    _id, token_a = invite(hub)
    register(sim, hub, token_a)

    assert hub.node.routing_table.connection(ptp_id).roles == (PartyKey("DE", "PTP", Role.PTP),)
    answered = httpx.get(
        f"{hub.url}/ocpi/2.3.0/credentials", headers=token_header(sim.peer().token_we_send)
    ).json()["data"]
    assert [(r["party_id"], r["role"]) for r in answered["roles"]] == [("PTP", "PTP")]


def test_a_221_peer_registering_a_ptp_role_is_refused_on_record(
    hub: RunningNode, platforms: Platforms
) -> None:
    _server, sim = platforms.start(PTP, "2.2.1")
    connection_id, token_a = invite(hub)

    response = httpx.post(
        f"{hub.url}/ocpi/2.2.1/credentials",
        headers=token_header(token_a),
        json={"token": "b" * 20, "url": sim.versions_url, "roles": sim.credentials_roles()},
    )

    assert response.status_code == 400 and response.json()["status_code"] == 2001
    assert "roles[0].role: OCPI 2.2.1 has no PTP role" in response.json()["status_message"]
    assert hub.events(connection_id)[-1] == "HandshakeFailed"
    assert hub.node.routing_table.connection(connection_id).roles == ()


def test_the_hub_registers_with_a_230_only_platform_in_230(
    hub: RunningNode, platforms: Platforms
) -> None:
    server, sim = platforms.start(EMSP_230, "2.3.0", token_a="token-a-for-the-hub")

    response = connect(hub, server)

    assert response.status_code == 201, response.text
    assert response.json()["version"] == "2.3.0"
    entry = hub.node.routing_table.connection(response.json()["id"])
    assert entry.roles == (PartyKey("DE", "MSP", Role.EMSP),)
    (their_view,) = sim.peers.values()
    assert their_view.version == "2.3.0"


def test_a_peer_registering_in_another_version_than_proposed_gets_3002_and_it_is_recorded(
    hub: RunningNode, platforms: Platforms
) -> None:
    _server, sim = platforms.start(EMSP_221, "2.2.1")
    connection_id, token_a = invite(hub, ocpi_version="2.3.0")

    response = httpx.post(
        f"{hub.url}/ocpi/2.2.1/credentials",
        headers=token_header(token_a),
        json={"token": "b" * 20, "url": sim.versions_url, "roles": sim.credentials_roles()},
    )

    assert response.status_code == 400
    assert response.json()["status_code"] == 3002
    assert "set up for OCPI 2.3.0" in response.json()["status_message"]
    assert hub.events(connection_id)[-1] == "HandshakeFailed"
    assert hub.node.routing_table.connection(connection_id).token_a_hash is not None


def test_a_211_registration_on_an_invitation_without_a_role_gets_3002(
    hub: RunningNode, platforms: Platforms
) -> None:
    connection_id, token_a = invite(hub)
    body = {"token": "b" * 20, "url": "http://127.0.0.1:9/ocpi/versions", "party_id": "CPO",
            "country_code": "NL", "business_details": {"name": "x"}}  # fmt: skip

    response = httpx.post(
        f"{hub.url}/ocpi/2.1.1/credentials", headers=token_header(token_a), json=body
    )

    assert response.json()["status_code"] == 3002
    assert "2.1.1 invitation with your role" in response.json()["status_message"]
    assert hub.events(connection_id)[-1] == "HandshakeFailed"


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        ({"ocpi_version": "2.1.1"}, "an OCPI 2.1.1 peer needs its role (CPO or EMSP)"),
        ({"ocpi_version": "2.1.1", "role": "NSP"}, "an OCPI 2.1.1 peer is CPO or EMSP"),
        ({"ocpi_version": "2.2.1", "role": "CPO"}, "role is only stated for OCPI 2.1.1 peers"),
        ({"ocpi_version": "2.0"}, "is not one this node speaks"),
    ],
)
def test_an_invitation_whose_version_and_role_do_not_go_together_is_400(
    hub: RunningNode, proposal: dict[str, str], message: str
) -> None:
    response = hub.admin("POST", "/invitations", json={"label": "peer", **proposal})

    assert response.status_code == 400
    assert message in response.json()["status_message"]
    assert hub.node.routing_table_view.connections() == []


def test_the_cli_invites_a_211_peer_and_lists_its_version(
    hub: RunningNode,
    platforms: Platforms,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OCPI_LEDGER_URL", hub.url)
    monkeypatch.setenv("OCPI_LEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
    assert main(["invite", "--ocpi-version", "2.1.1", "--role", "CPO", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    _server, sim = platforms.start(CPO_211, "2.1.1")
    register(sim, hub, created["token_a"])

    assert main(["connections"]) == 0

    listed = capsys.readouterr().out
    header, row = listed.splitlines()[:2]
    assert header.split()[3:5] == ["VERSION", "PROPOSED_VERSION"]
    assert row.split()[3:5] == ["2.1.1", "2.1.1"] and "NL*CPO/CPO" in row


def test_tokens_rotate_in_211_from_both_sides_and_the_version_stays(
    hub: RunningNode, platforms: Platforms
) -> None:
    server, sim = platforms.start(EMSP_211, "2.1.1", token_a="token-a-for-the-hub")
    connection_id = connect(hub, server, ocpi_version="2.1.1", role="EMSP").json()["id"]
    before = sim.peer().token_we_send

    rotated = hub.admin("POST", f"/connections/{connection_id}/rotate-token")
    ours = sim.peer()
    body = {"token": "new-token-b-of-the-emsp", "url": sim.versions_url, "party_id": "EMS",
            "country_code": "BE", "business_details": {"name": "2.1.1 eMSP"}}  # fmt: skip
    ours.token_we_accept = body["token"]
    raw = {"Authorization": f"Token {ours.token_we_send}"}  # 2.1.1 sends tokens un-encoded
    put = httpx.put(f"{hub.url}/ocpi/2.1.1/credentials", headers=raw, json=body)

    assert rotated.status_code == 200, rotated.text
    assert ours.token_we_send != before
    assert put.json()["status_code"] == 1000, put.text
    assert set(put.json()["data"]) == {"token", "url", "party_id", "country_code",
                                       "business_details"}  # fmt: skip
    entry = hub.node.routing_table.connection(connection_id)
    assert entry.version == "2.1.1" and entry.roles == (PartyKey("BE", "EMS", Role.EMSP),)
    assert hub.events(connection_id)[-2:] == ["CredentialsUpdated", "CredentialsUpdated"]
