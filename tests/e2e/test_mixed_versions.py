"""Issue 17 done: a 2.1.1 CPO, a 2.2.1 eMSP and a 2.3.0 eMSP (and a 2.3.0 CPO), each a simulated
platform in its own process, registered with the hub (`ocpi-ledger serve`) through the handshake
of their own version, exchange every module through it.

Each message is checked where it landed, in the receiver's own version (the simulator's state),
and in the hub's ledger with its loss report (the admin API's timeline and traffic view). One
world per store, shared by the assertions: the hub on SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.demo.mixed_traffic import MESSAGES, Sent, run_mixed_traffic, token_of
from api.demo.mixed_versions import ADMIN, MixedVersionsDemo
from api.demo.orchestrator import HUB_NAME
from tests.conftest import DEFAULT_POSTGRES_URL, require_postgres

World = tuple[MixedVersionsDemo, list[Sent]]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    database_url = None
    if request.param == "postgres":
        require_postgres()
        database_url = DEFAULT_POSTGRES_URL
    demo = MixedVersionsDemo(database_url=database_url)
    try:
        demo.start()
        demo.connect()
        yield demo, asyncio.run(run_mixed_traffic(demo))
    finally:
        demo.close()
    assert not demo.workdir.exists()


def received(demo: MixedVersionsDemo, name: str, module: str) -> dict[str, Any]:
    """What the platform's party was pushed, by object id, as it stored it."""
    simulator = demo.simulator(name)
    country_code, party_id = simulator.party.ref
    url = f"{simulator.url}/_sim/parties/{country_code}/{party_id}/received/{module}"
    objects = httpx.get(url, timeout=10).json()
    return {str(o.get("id") or o.get("uid")): o for o in objects}


def sent_by(sent: list[Sent], sender: str, name: str, receiver: str) -> Sent:
    (found,) = [s for s in sent if (s.sender, s.name) == (sender, name) and receiver in s.receivers]
    return found


def hub_messages(demo: MixedVersionsDemo, expected: int, **params: str) -> list[dict[str, Any]]:
    """The hub's audit rows matching `params`, once its projection holds `expected` of them."""
    deadline = time.monotonic() + 15
    while True:
        found = httpx.get(
            f"{demo.hub.url}/admin/messages", params=params, headers=ADMIN, timeout=10
        ).json()["data"]["messages"]
        if len(found) >= expected or time.monotonic() > deadline:
            assert len(found) == expected, (params, found)
            return list(found)
        time.sleep(0.1)


def timeline(demo: MixedVersionsDemo, message_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{demo.hub.url}/admin/messages/{message_id}", headers=ADMIN, timeout=10)
    return dict(answer.json()["data"])


def losses(record: dict[str, Any]) -> dict[str, str]:
    return {loss["path"]: loss["kind"] for loss in record["losses"]}


def versions(record: dict[str, Any]) -> tuple[str, str]:
    return record["source_version"], record["target_version"]


def test_every_module_is_exchanged_through_the_hub_and_answered(world: World) -> None:
    _, sent = world
    assert [s for s in sent if not s.ok] == []
    assert len(sent) == MESSAGES  # what the demo's progress bar counts to
    assert {s.module for s in sent} == {
        "locations", "tariffs", "tokens", "commands", "sessions", "cdrs", "chargingprofiles",
    }  # fmt: skip


def test_the_2_1_1_cpo_location_reaches_each_emsp_in_its_version(world: World) -> None:
    demo, sent = world

    for emsp, version in (("eMSP2", "2.2.1"), ("eMSP3", "2.3.0")):
        pushed = received(demo, emsp, "locations")["LOC1"]
        fetched = sent_by(sent, emsp, "location GET", "CPO1").data
        for location in (pushed, fetched):
            # 2.2.1/2.3.0 shape: owner ids, publish, parking_type for 2.1.1's type, max_voltage
            assert (location["country_code"], location["party_id"]) == ("NL", "CP1"), version
            assert location["publish"] is True and location["parking_type"] == "ON_STREET"
            assert "type" not in location
            assert location["evses"][0]["connectors"][0]["max_voltage"] == 230

    (push,) = hub_messages(demo, 1, party="NL*CP1", module="locations", direction="sent")
    legs = timeline(demo, push["id"])["legs"]
    by_target = {leg["target_party"]: leg["translation"] for leg in legs}
    assert versions(by_target["NL*EM2"]) == ("2.1.1", "2.2.1")
    assert versions(by_target["NL*EM3"]) == ("2.1.1", "2.3.0")
    assert losses(by_target["NL*EM2"])["publish"] == "defaulted"
    for get in hub_messages(demo, 2, party="NL*CP1", module="locations", direction="received"):
        (leg,) = timeline(demo, get["id"])["legs"]
        assert leg["translation"]["target_version"] == "2.1.1"
        answer = leg["result"]["translation"]
        assert answer["source_version"] == "2.1.1" and "publish" in losses(answer)


def test_the_emsps_tokens_reach_the_2_1_1_cpo_in_its_shape(world: World) -> None:
    demo, _ = world

    tokens = received(demo, "CPO1", "tokens")

    for emsp in ("eMSP2", "eMSP3"):
        pushed = token_of(demo, emsp)
        token = tokens[pushed["uid"]]
        assert token["auth_id"] == pushed["contract_id"]
        assert not {"contract_id", "country_code", "party_id"} & set(token)
    # eMSP2's push to it, eMSP3's and eMSP5's broadcasts
    pushes = hub_messages(demo, 3, party="NL*CP1", module="tokens", direction="received")
    for push in pushes:
        (leg,) = [
            leg for leg in timeline(demo, push["id"])["legs"] if leg["target_party"] == "NL*CP1"
        ]
        if push["from_party"] == "NL*EM5":
            assert leg["translation"] is None  # 2.1.1 to 2.1.1: sent as received
            continue
        assert leg["translation"]["target_version"] == "2.1.1"
        # 2.1.1 tokens carry no owner: the connection says whose they are
        assert losses(leg["translation"])["party_id"] == "dropped"


def test_a_2_2_1_start_session_reaches_the_2_1_1_cpo_and_its_result_comes_back(
    world: World,
) -> None:
    demo, sent = world
    command = sent_by(sent, "eMSP2", "START_SESSION", "CPO1")

    assert command.data == {"result": "ACCEPTED", "timeout": 60}  # 2.1.1 has no timeout
    assert command.result == {"result": "ACCEPTED"}
    log = httpx.get(f"{demo.simulator('CPO1').url}/_sim/log", timeout=10).json()
    (start,) = [e for e in log if e["path"].endswith("/START_SESSION") and "EM2" in e["body"]]
    assert start["path"] == "/ocpi/cpo/2.1.1/commands/START_SESSION"
    assert not any(name.lower().startswith("ocpi-") for name in start["headers"])

    (request,) = hub_messages(
        demo, 1, party="NL*EM2", counterpart="NL*CP1", module="commands", direction="sent"
    )
    (leg,) = timeline(demo, request["id"])["legs"]
    assert versions(leg["translation"]) == ("2.2.1", "2.1.1")
    assert versions(leg["result"]["translation"]) == ("2.1.1", "2.2.1")
    assert losses(leg["result"]["translation"])["timeout"] == "defaulted"
    (result,) = hub_messages(
        demo, 1, party="NL*CP1", counterpart="NL*EM2", module="commands", direction="sent"
    )
    (callback,) = timeline(demo, result["id"])["legs"]
    assert versions(callback["translation"]) == ("2.1.1", "2.2.1")


def test_the_2_1_1_sessions_and_cdrs_reach_the_tokens_emsp_in_its_version(world: World) -> None:
    demo, _ = world

    for emsp, version, other in (("eMSP2", "2.2.1", "eMSP3"), ("eMSP3", "2.3.0", "eMSP2")):
        token = token_of(demo, emsp)
        session = received(demo, emsp, "sessions")[f"S1{emsp[-1]}"]
        cdr = received(demo, emsp, "cdrs")[f"CDR1{emsp[-1]}"]
        for document in (session, cdr):
            assert (document["country_code"], document["party_id"]) == ("NL", "CP1")
            # the token the eMSP pushed, known to the hub by its contract id (2.1.1 auth_id)
            assert document["cdr_token"] == {
                key: token[key] for key in ("country_code", "party_id", "uid", "type")
            } | {"contract_id": token["contract_id"]}, version
            assert "auth_id" not in document
        assert session["location_id"] == "LOC1" and cdr["cdr_location"]["id"] == "LOC1"
        assert f"S1{emsp[-1]}" not in received(demo, other, "sessions")
        total = cdr["total_cost"]
        assert total == ({"excl_vat": 2.5} if version == "2.2.1" else {"before_taxes": 2.5})

    for module in ("sessions", "cdrs"):
        found = hub_messages(demo, 3 - (module == "cdrs"), party="NL*CP1", module=module)
        for message in [m for m in found if m["method"] != "PATCH"]:
            entry = timeline(demo, message["id"])
            assert "routed by token" in entry["routing"]["reason"]
            (leg,) = entry["legs"]
            assert leg["translation"]["source_version"] == "2.1.1"
            assert losses(leg["translation"])["auth_id"] == "approximated"


def test_a_2_3_0_cpo_reaches_the_2_2_1_emsp_with_sessions_profiles_and_cdrs(world: World) -> None:
    demo, sent = world

    assert received(demo, "eMSP2", "sessions")["S42"]["party_id"] == "CP4"
    assert received(demo, "eMSP2", "cdrs")["CDR42"]["total_cost"]["excl_vat"] == 2.5
    assert received(demo, "eMSP2", "tariffs")["TAR4"].get("tax_included") is None
    assert received(demo, "eMSP3", "tariffs")["TAR1"]["tax_included"] == "NO"
    assert sent_by(sent, "eMSP2", "charging profile", "CPO4").result == {"result": "ACCEPTED"}
    (profile,) = hub_messages(demo, 1, party="NL*EM2", module="chargingprofiles", direction="sent")
    (leg,) = timeline(demo, profile["id"])["legs"]
    assert versions(leg["translation"]) == ("2.2.1", "2.3.0")


def test_the_traffic_view_counts_translations_and_losses_per_party_pair(world: World) -> None:
    demo, _ = world

    found = httpx.get(f"{demo.hub.url}/admin/traffic", headers=ADMIN, timeout=10).json()
    pairs = {(t["party"], t["counterpart"], t["module"]): t for t in found["data"]["translations"]}

    sessions = pairs[("NL*CP1", "NL*EM2", "sessions")]
    assert versions(sessions) == ("2.1.1", "2.2.1")
    # the PUT and the PATCH (kwh and last_updated: nothing lost)
    assert sessions["translations"] == 2 and sessions["lossy"] == 1 and sessions["losses"] >= 1
    commands = pairs[("NL*EM2", "NL*CP1", "commands")]
    assert versions(commands) == ("2.2.1", "2.1.1") and commands["translations"] == 2
    assert pairs[("NL*EM3", "NL*CP1", "tokens")]["target_version"] == "2.1.1"
    # same version, no translation: the 2.3.0 eMSP and CPO
    assert ("NL*EM3", "NL*CP4", "tokens") not in pairs


def test_a_2_1_1_emsp_names_no_receiver_yet_its_messages_arrive_and_answers_come_back(
    world: World,
) -> None:
    demo, sent = world
    token = received(demo, "CPO4", "tokens")["TOK5"]  # broadcast, in 2.3.0 shape
    assert (token["party_id"], token["contract_id"]) == ("EM5", "NL-EM5-CTOK5")

    location = sent_by(sent, "eMSP5", "location GET", "CPO4").data  # open-routed by its id
    assert location["type"] == "ON_STREET" and "country_code" not in location
    assert location["evses"][0]["connectors"][0]["voltage"] == 230
    command = sent_by(sent, "eMSP5", "START_SESSION", "CPO4")
    assert command.data == {"result": "ACCEPTED"} and command.result == {"result": "ACCEPTED"}

    # the 2.3.0 CPO's session and CDR, in 2.1.1 shape, embedding the location it pushed
    for document in (received(demo, "eMSP5", "sessions")["S45"],
                     received(demo, "eMSP5", "cdrs")["CDR45"]):  # fmt: skip
        assert document["auth_id"] == "NL-EM5-CTOK5" and "cdr_token" not in document
        assert document["location"]["type"] == "ON_STREET"
        assert document["location"]["evses"][0]["connectors"][0]["voltage"] == 230


def test_authorisations_cross_versions_both_ways_and_a_2_1_1_session_update_follows_its_put(
    world: World,
) -> None:
    demo, sent = world

    assert sent_by(sent, "CPO1", "authorisation", "eMSP2").data == {"allowed": "ALLOWED"}
    from_230 = sent_by(sent, "CPO4", "authorisation", "eMSP5").data
    # 2.3.0 AuthorizationInfo needs the token a 2.1.1 eMSP's answer lacks: the one it pushed
    assert from_230["allowed"] == "ALLOWED" and from_230["token"]["uid"] == "TOK5"
    assert from_230["token"]["party_id"] == "EM5"
    assert received(demo, "eMSP2", "sessions")["S12"]["kwh"] == 5.5


def test_list_gets_are_answered_from_the_hubs_store_in_the_requesters_version(
    world: World,
) -> None:
    _, sent = world

    tokens = {t["uid"]: t for t in sent_by(sent, "CPO1", "token list GET", HUB_NAME).data}
    listed = sent_by(sent, "eMSP3", "location list GET", HUB_NAME).data
    locations = {location["id"]: location for location in listed}

    # eMSP3's (2.3.0) and eMSP5's (2.1.1) broadcasts; eMSP2 addressed the CPOs, not the hub
    assert set(tokens) == {"TOK3", "TOK5"}
    assert tokens["TOK3"]["auth_id"] == "NL-EM3-CTOK3" and "party_id" not in tokens["TOK3"]
    assert set(locations) == {"LOC1", "LOC4"}
    assert (locations["LOC1"]["party_id"], locations["LOC1"]["publish"]) == ("CP1", True)
