"""A dry run of route choice for operators: where a message to a party would go now and why, or
the hub error it would get, without recording or sending anything."""

from __future__ import annotations

import httpx
import pytest

from api.cli import main
from domain.values import Role
from tests.support.hub import HubUnderTest

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}


def explain(hub: HubUnderTest, **params: str) -> httpx.Response:
    return httpx.get(
        f"{hub.url}/admin/routing-table/explain", params=params, headers=ADMIN, timeout=10
    )


def test_the_route_a_message_would_take_is_explained_without_sending_anything(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    head = hub.node.ledger.recorder.max_notification_id()

    answer = explain(hub, to=str(cpo.party), module="tokens", interface="receiver")

    assert answer.status_code == 200, answer.text
    route = answer.json()["data"]
    assert route["routed"] is True and route["via"] == "direct"
    assert route["connection_id"] == str(cpo.connection_id)
    assert route["endpoint_url"].startswith(cpo.platform.url)
    assert "CONNECTED" in route["reason"]
    assert cpo.outbound_token not in answer.text
    assert cpo.platform.requests == []
    assert hub.node.ledger.recorder.max_notification_id() == head


def test_a_party_that_would_not_be_reached_is_explained_with_its_hub_error(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    hub.take_offline(cpo)

    offline = explain(hub, to=str(cpo.party), module="tokens", interface="receiver").json()
    assert offline["data"]["routed"] is False and offline["data"]["status_code"] == 4003
    unknown = explain(hub, to="DE*ZZZ", module="tokens", interface="receiver").json()
    assert unknown["data"]["status_code"] == 4001

    assert explain(hub, to="DE*ZZZ", module="tokens").status_code == 400
    bad = explain(hub, to="nonsense", module="tokens", interface="receiver")
    assert bad.status_code == 400 and "CC*PID" in bad.json()["status_message"]
    assert explain(hub, to="DE*ZZZ", module="tokens", interface="sideways").status_code == 400


def test_the_cli_prints_the_route_and_its_reason(
    hub: HubUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    cpo = hub.connect(Role.CPO)
    token = ADMIN["authorization"].removeprefix("Bearer ")
    common = ["--url", hub.url, "--token", token]

    assert main(["route", str(cpo.party), "tokens", "receiver", *common]) == 0
    printed = capsys.readouterr().out
    assert f"-> direct via {cpo.connection_id}" in printed and "CONNECTED" in printed
    assert main(["route", "DE*ZZZ", "tokens", "receiver", *common]) == 0
    assert "4001" in capsys.readouterr().out


def test_who_a_broadcast_would_reach_is_explained_without_sending_anything(
    hub: HubUnderTest,
) -> None:
    cpo, other_cpo = hub.connect(Role.CPO), hub.connect(Role.CPO)
    emsps = [hub.connect(Role.EMSP) for _ in range(2)]
    offline = hub.connect(Role.EMSP)
    hub.take_offline(offline)

    answer = explain(hub, **{"from": str(cpo.party), "module": "locations"})

    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["role"] == "CPO"
    assert sorted(r["party"] for r in data["receivers"]) == sorted(str(e.party) for e in emsps)
    assert str(other_cpo.party) not in answer.text and str(offline.party) not in answer.text
    assert all(e.platform.requests == [] for e in emsps)
    never = explain(hub, **{"from": str(cpo.party), "module": "commands"}).json()["data"]
    assert never["receivers"] == [] and "never broadcast" in never["reason"]


def test_the_cli_lists_a_broadcast_audience(
    hub: HubUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    token = ADMIN["authorization"].removeprefix("Bearer ")

    assert main(["audience", str(cpo.party), "locations", "--url", hub.url, "--token", token]) == 0

    printed = capsys.readouterr().out
    assert f"{emsp.party} (direct via {emsp.connection_id})" in printed
    assert "to 1 receiver(s)" in printed
