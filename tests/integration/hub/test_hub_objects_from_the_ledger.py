"""GET All answers from a projection of the ledger: it sees every push answered before it, and
an operator's rebuild from event zero serves the same objects."""

from __future__ import annotations

import time

from domain.values import Role
from tests.support.hub import HUB, HubUnderTest

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}


def evse_status(number: int) -> dict[str, object]:
    return {"status": "CHARGING" if number % 2 else "AVAILABLE",
            "last_updated": f"2024-01-01T00:{number // 60:02d}:{number % 60:02d}Z"}  # fmt: skip


def test_a_get_all_sent_after_a_push_was_answered_sees_that_push(hub: HubUnderTest) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    party = cpo.party.party_id
    location = {"country_code": "NL", "party_id": party, "id": "L1"}
    location |= {"evses": [{"uid": "E1", **evse_status(0)}], "last_updated": "2024-01-01T00:00:00Z"}
    assert cpo.call("PUT", "locations", "receiver", f"/NL/{party}/L1", to=HUB, body=location)
    for number in range(1, 16):
        answered = cpo.call(
            "PATCH", "locations", "receiver", f"/NL/{party}/L1/E1", to=HUB,
            body=evse_status(number),
        )  # fmt: skip
        assert answered.status_code == 200
        got = emsp.call("GET", "locations", "sender", to=HUB)
        assert got.json()["data"][0]["evses"][0] == {"uid": "E1", **evse_status(number)}
        owner = cpo.call("GET", "locations", "receiver", f"/NL/{party}/L1/E1", to=HUB)
        assert owner.json()["data"]["last_updated"] == evse_status(number)["last_updated"]


def test_rebuilding_the_hub_objects_from_event_zero_serves_the_same_get_all(
    hub: HubUnderTest,
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    party = cpo.party.party_id
    for number in range(5):
        tariff = {"country_code": "NL", "party_id": party, "id": f"T{number}", "currency": "EUR"}
        tariff["last_updated"] = f"2024-01-0{number + 1}T00:00:00Z"
        cpo.call("PUT", "tariffs", "receiver", f"/NL/{party}/T{number}", to=HUB, body=tariff)
    cpo.call("DELETE", "tariffs", "receiver", f"/NL/{party}/T2", to=HUB)
    before = emsp.call("GET", "tariffs", "sender", to=HUB).json()["data"]
    assert [t["id"] for t in before] == ["T0", "T1", "T3", "T4"]

    rebuild = hub.client.post(f"{hub.url}/admin/projections/hub_objects/rebuild", headers=ADMIN)
    assert rebuild.status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        progress = hub.client.get(f"{hub.url}/admin/projections/hub_objects", headers=ADMIN)
        state = progress.json()["data"]
        if state["position"] >= state["head"]:
            break
        time.sleep(0.02)

    assert state["error"] is None
    assert emsp.call("GET", "tariffs", "sender", to=HUB).json()["data"] == before
