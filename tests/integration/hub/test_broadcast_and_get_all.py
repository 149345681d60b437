"""Broadcast pushes (TO = hub), the hub's copy of them, GET All and open routing from it."""

from __future__ import annotations

import json

from domain.values import Role
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HUB, HubUnderTest


def location(party_id: str, location_id: str, last_updated: str) -> dict[str, object]:
    return {
        "country_code": "NL",
        "party_id": party_id,
        "id": location_id,
        "evses": [{"uid": "E1", "status": "AVAILABLE", "last_updated": last_updated}],
        "last_updated": last_updated,
    }


def test_a_broadcast_reaches_every_eligible_receiver_and_one_failure_stays_in_the_ledger(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    other_cpo = hub.connect(Role.CPO)
    emsps = [hub.connect(Role.EMSP) for _ in range(3)]
    failing = emsps[1]
    failing.platform.on("PUT", "/", Reply(500, b"boom"))
    offline = hub.connect(Role.EMSP)
    hub.take_offline(offline)
    path = f"/NL/{cpo.party.party_id}/LOC1"
    body = json.dumps(location(cpo.party.party_id, "LOC1", "2024-01-01T00:00:00Z")).encode()

    response = cpo.call("PUT", "locations", "receiver", path, to=HUB, body=body, request_id="b-1")

    assert response.status_code == 200
    assert response.json()["status_code"] == 1000
    assert response.headers["x-request-id"] == "b-1"
    assert response.headers["ocpi-from-party-id"] == HUB.party_id
    for emsp in emsps:
        (forwarded,) = emsp.platform.wait_for(1)
        assert forwarded.body == body
        assert forwarded.path.endswith(f"/locations/receiver{path}")
        assert forwarded.headers["ocpi-from-party-id"] == HUB.party_id
        assert forwarded.headers["ocpi-to-party-id"] == emsp.party.party_id
        assert forwarded.headers["authorization"] == emsp.expected_authorization()
    assert other_cpo.platform.requests == [] and offline.platform.requests == []

    events = hub.wait_for_events(cpo, "b-1", lambda names: names.count("Answered") == 3, timeout=5)
    names = [type(event).__name__ for event in events]
    assert names[:2] == ["Received", "Routed"] and names.count("Forwarded") == 3
    assert "Responded" in names and names.index("Responded") < names.index("Answered")
    routed = events[1]
    assert routed.classification == "BROADCAST"
    assert sorted(routed.targets) == sorted(str(e.party) for e in emsps)
    legs = {e.leg: e.target_party for e in events if type(e).__name__ == "Forwarded"}
    answers = {e.leg: e.http_status for e in events if type(e).__name__ == "Answered"}
    failed_leg = next(leg for leg, party in legs.items() if party == str(failing.party))
    assert answers[failed_leg] == 500
    assert all(status == 200 for leg, status in answers.items() if leg != failed_leg)


def test_a_broadcast_to_an_unreachable_receiver_is_recorded_as_a_failed_leg(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    emsp.platform.stop()
    cpo = hub.connect(Role.CPO)
    path = f"/NL/{cpo.party.party_id}/T1"
    tariff = {"country_code": "NL", "party_id": cpo.party.party_id, "id": "T1"}
    tariff["last_updated"] = "2024-01-01T00:00:00Z"

    response = cpo.call("PUT", "tariffs", "receiver", path, to=HUB, body=tariff, request_id="b-2")

    assert response.json()["status_code"] == 1000
    events = hub.wait_for_events(cpo, "b-2", lambda names: "Failed" in names)
    failed = next(e for e in events if type(e).__name__ == "Failed")
    assert failed.status_code == 4003


def test_get_all_answers_from_broadcast_objects_with_its_own_pagination(
    hub: HubUnderTest,
) -> None:
    cpos = [hub.connect(Role.CPO) for _ in range(2)]
    emsp = hub.connect(Role.EMSP)
    stamps = ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]
    for number, stamp in enumerate(stamps):
        cpo = cpos[number % 2]
        body = location(cpo.party.party_id, f"L{number}", stamp)
        path = f"/NL/{cpo.party.party_id}/L{number}"
        assert cpo.call("PUT", "locations", "receiver", path, to=HUB, body=body).status_code == 200
    patch = {"status": "CHARGING", "last_updated": "2024-01-04T00:00:00Z"}
    evse_path = f"/NL/{cpos[0].party.party_id}/L0/E1"
    cpos[0].call("PATCH", "locations", "receiver", evse_path, to=HUB, body=patch)

    first = emsp.call(
        "GET", "locations", "sender", "?limit=2&date_from=2024-01-02T12:00:00Z", to=HUB,
        request_id="all-1",
    )  # fmt: skip

    assert first.status_code == 200
    assert first.headers["x-total-count"] == "2"
    assert first.headers["x-limit"] == "100"
    assert first.headers["ocpi-from-party-id"] == HUB.party_id
    assert [loc["id"] for loc in first.json()["data"]] == ["L2", "L0"]
    patched = first.json()["data"][1]
    assert patched["evses"][0]["status"] == "CHARGING"
    assert patched["last_updated"] == "2024-01-04T00:00:00Z"
    assert "link" not in first.headers

    page = emsp.call("GET", "locations", "sender", "?limit=1", to=HUB, request_id="all-2")
    assert page.headers["x-total-count"] == "3"
    assert [loc["id"] for loc in page.json()["data"]] == ["L1"]  # oldest first
    link = page.headers["link"]
    assert link.startswith(f"<{hub.url}/ocpi/2.2.1/locations/sender?") and 'rel="next"' in link
    next_url = link[1 : link.index(">")]
    second = emsp.call("GET", "locations", "sender", to=HUB, url=next_url)
    assert [loc["id"] for loc in second.json()["data"]] == ["L2"]
    assert "offset=1" in next_url

    events = hub.events(emsp, "all-1")
    assert [type(e).__name__ for e in events] == ["Received", "Routed", "Responded"]
    assert events[1].classification == "GET_ALL"
    assert json.loads(hub.body(events[2].body_sha256))["data"] == first.json()["data"]


def test_the_owner_reads_back_the_hubs_copy_of_its_broadcast_object(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    token = {"country_code": "NL", "party_id": emsp.party.party_id, "uid": "AB12", "type": "RFID"}
    token["last_updated"] = "2024-01-01T00:00:00Z"
    body = json.dumps(token, indent=1).encode()
    path = f"/NL/{emsp.party.party_id}/AB12"
    emsp.call("PUT", "tokens", "receiver", path, to=HUB, body=body)

    read = emsp.call("GET", "tokens", "receiver", path + "?type=RFID", to=HUB, request_id="rb")
    missing = emsp.call("GET", "tokens", "receiver", path + "?type=APP_USER", to=HUB)

    assert read.json()["data"] == token
    assert body in read.content
    assert missing.status_code == 404 and missing.json()["status_code"] == 2001
    assert hub.events(emsp, "rb")[1].classification == "HUB_RECEIVER_GET"


def test_open_routing_finds_the_token_owner_from_a_broadcast_token(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO)
    token = {"country_code": "NL", "party_id": emsp.party.party_id, "uid": "T-9", "type": "RFID"}
    token["last_updated"] = "2024-01-01T00:00:00Z"
    emsp.call("PUT", "tokens", "receiver", f"/NL/{emsp.party.party_id}/T-9", to=HUB, body=token)
    emsp.platform.on("POST", "/", Reply(200, envelope({"allowed": "ALLOWED"})))

    answer = cpo.call("POST", "tokens", "sender", "/T-9/authorize", request_id="open-1")

    assert answer.json()["data"] == {"allowed": "ALLOWED"}
    assert answer.headers["ocpi-from-party-id"] == emsp.party.party_id
    forwarded = emsp.platform.wait_for(1)[-1]
    assert forwarded.path.endswith("/tokens/sender/T-9/authorize")
    assert forwarded.headers["ocpi-to-party-id"] == emsp.party.party_id
    routed = hub.events(cpo, "open-1")[1]
    assert routed.classification == "OPEN_ROUTING" and routed.targets == [str(emsp.party)]
    assert "open routing resolved" in routed.reason

    unknown = cpo.call("POST", "tokens", "sender", "/NOPE/authorize", request_id="open-2")
    assert unknown.json()["status_code"] == 4001
    assert [type(e).__name__ for e in hub.events(cpo, "open-2")] == [
        "Received",
        "Refused",
        "Responded",
    ]


def test_open_routing_sends_a_command_to_the_cpo_owning_the_location(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    cpo.call(
        "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/LOC-7", to=emsp.party,
        body=location(cpo.party.party_id, "LOC-7", "2024-01-01T00:00:00Z"),
    )  # fmt: skip
    command = {"response_url": "https://emsp.example.com/r/1", "location_id": "LOC-7"}

    answer = emsp.call("POST", "commands", "receiver", "/START_SESSION", body=command)

    assert answer.status_code == 200
    assert answer.headers["ocpi-from-party-id"] == cpo.party.party_id
    assert cpo.platform.wait_for(1)[0].path.endswith("/commands/receiver/START_SESSION")
