"""What the hub answers itself: 4001-4003, refusals of bad input, and a ledger that is down."""

from __future__ import annotations

import time

from domain.values import PartyRef, Role
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest

REFUSED = ["Received", "Refused", "Responded"]


def test_an_unknown_receiver_gets_4001_and_the_refusal_is_recorded(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    answer = cpo.call(
        "GET", "locations", "receiver", f"/NL/{cpo.party.party_id}/L1", to=PartyRef("DE", "ZZZ"),
        request_id="u-1",
    )  # fmt: skip
    assert answer.status_code == 200 and answer.json()["status_code"] == 4001
    assert answer.headers["x-request-id"] == "u-1"
    assert answer.headers["ocpi-to-party-id"] == cpo.party.party_id
    events = hub.events(cpo, "u-1")
    assert [type(e).__name__ for e in events] == REFUSED
    assert events[1].ocpi_status == 4001 and "DE*ZZZ" in events[1].reason


def test_offline_and_suspended_receivers_get_4003_and_nothing_is_forwarded(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    offline, suspended = hub.connect(Role.CPO), hub.connect(Role.CPO)
    hub.take_offline(offline)
    hub.suspend(suspended)
    for number, cpo in enumerate((offline, suspended)):
        answer = emsp.call("GET", "tariffs", "sender", to=cpo.party, request_id=f"off-{number}")
        assert answer.json()["status_code"] == 4003
        assert cpo.platform.requests == []
        assert hub.event_names(emsp, f"off-{number}") == REFUSED


def test_a_receiver_without_the_endpoint_is_an_unknown_receiver(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, endpoints=[])
    answer = emsp.call("GET", "tariffs", "sender", to=cpo.party)
    assert answer.json()["status_code"] == 4001
    assert "does not implement the tariffs SENDER" in answer.json()["status_message"]


def test_a_receiver_that_cannot_be_reached_gives_4003_recorded_as_a_failed_leg(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO)
    cpo.platform.stop()
    answer = emsp.call("GET", "tariffs", "sender", to=cpo.party, request_id="down")
    assert answer.json()["status_code"] == 4003
    assert hub.event_names(emsp, "down") == [
        "Received", "Routed", "Forwarded", "Failed", "Responded",
    ]  # fmt: skip


def test_a_hanging_receiver_gets_4002_within_the_timeout(database_url: DatabaseUrl) -> None:
    with HubUnderTest(database_url, forward_timeout=0.5, hub_error_http_status=504) as hub:
        emsp = hub.connect(Role.EMSP)
        cpo = hub.connect(Role.CPO)
        cpo.platform.on("GET", "/", Reply(hang=True))
        started = time.monotonic()
        answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="hang")
        assert time.monotonic() - started < 2.0
        assert answer.status_code == 504 and answer.json()["status_code"] == 4002
        failed = hub.events(emsp, "hang")[3]
        assert type(failed).__name__ == "Failed" and failed.status_code == 4002


def test_a_spoofed_from_is_refused_and_recorded(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    victim = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    answer = cpo.call(
        "PUT", "locations", "receiver", f"/NL/{victim.party.party_id}/L1", to=emsp.party,
        from_=victim.party, body={"id": "L1"}, request_id="spoof",
    )  # fmt: skip
    assert answer.json()["status_code"] == 2001
    assert "spoofed" in answer.json()["status_message"]
    foreign_owner = cpo.call(
        "PUT", "locations", "receiver", f"/NL/{victim.party.party_id}/L1", to=emsp.party,
        body={"id": "L1"}, request_id="owner",
    )  # fmt: skip
    assert foreign_owner.json()["status_code"] == 2001
    assert emsp.platform.requests == []
    assert hub.event_names(cpo, "spoof") == REFUSED
    assert hub.event_names(cpo, "owner") == REFUSED


def test_a_ten_megabyte_body_is_relayed_byte_for_byte(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    filler = "x" * (10 * 1024 * 1024)
    body = b'{"id": "CDR-BIG", "remark": "' + filler.encode() + b'", "n": 1.10}'
    emsp.platform.on("POST", "/", Reply(201, envelope(), {"location": "https://e/x"}))

    answer = cpo.call("POST", "cdrs", "receiver", to=emsp.party, body=body, request_id="big")

    assert answer.status_code == 201
    assert emsp.platform.wait_for(1)[0].body == body
    received = hub.events(cpo, "big")[0]
    assert received.body_size == len(body) and hub.body(received.body_sha256) == body


def test_malformed_json_is_http_400_with_2001_and_not_forwarded(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    answer = cpo.call(
        "PUT", "sessions", "receiver", f"/NL/{cpo.party.party_id}/S1", to=emsp.party,
        body=b'{"id": "S1",', request_id="bad-json",
    )  # fmt: skip
    assert answer.status_code == 400 and answer.json()["status_code"] == 2001
    assert "not valid JSON" in answer.json()["status_message"]
    assert emsp.platform.requests == []
    assert hub.event_names(cpo, "bad-json") == REFUSED


def test_without_a_connection_token_the_hub_answers_401(hub: HubUnderTest) -> None:
    response = hub.client.get(
        f"{hub.url}/ocpi/2.2.1/locations/sender", headers={"authorization": "Token bm9wZQ=="}
    )
    assert response.status_code == 401


def test_when_the_ledger_cannot_record_nothing_is_forwarded(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    table = "ledger_events" if hub.database.is_postgres else "stored_events"
    with hub.node.store.ledger_db.transaction() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")

    answer = cpo.call("GET", "tokens", "sender", to=emsp.party)

    assert answer.status_code == 503
    assert answer.json()["status_code"] == 4000 and answer.headers["retry-after"]
    assert emsp.platform.requests == []


def test_a_retried_request_id_is_recorded_as_a_new_attempt(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    for _ in range(2):
        answer = cpo.call("GET", "tokens", "sender", to=emsp.party, request_id="again")
        assert answer.json()["status_code"] == 1000
    assert len(emsp.platform.wait_for(2)) == 2
    first, retry = hub.events(cpo, "again"), hub.events(cpo, "again", attempt=1)
    assert first[0].retry_of is None and first[0].attempt == 0
    assert retry[0].attempt == 1 and retry[0].retry_of == str(first[0].originator_id)
    assert [type(e).__name__ for e in retry][-1] == "Responded"
