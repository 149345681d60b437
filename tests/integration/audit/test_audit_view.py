"""The audit view on both stores: every filter, newest first, pages, timelines, rebuilds."""

from datetime import UTC, datetime, timedelta

import pytest

from application.audit import InvalidQuery, MessageQuery
from application.timeline import message_timeline
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.store import Store
from tests.audit_support import Leg, audit_view, record, routed

T0 = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def filled(store: Store) -> Store:
    record(
        store,
        routed("r1", when=T0),
        routed(
            "r2",
            sender="DE*EMS",
            receiver="NL*CPO",
            module="tokens",
            path="/DE/EMS/TOKEN9",
            body=b'{"uid":"TOKEN9"}',
            connection="conn-ems",
            legs=[Leg("NL*CPO", "conn-cpo")],
            when=T0 + timedelta(minutes=1),
        ),
        routed(
            "r3",
            module="cdrs",
            method="POST",
            path="",
            body=b'{"id":"CDR42","cdr_token":{"uid":"TOKEN9"},"session_id":"S7"}',
            correlation_id="dispute-1",
            legs=[Leg("DE*EMS", "conn-ems", ocpi_status=2001, answer=b'{"status_code":2001}')],
            when=T0 + timedelta(minutes=2),
        ),
        routed(
            "r4",
            receiver="FR*EMP",
            legs=[Leg("FR*EMP", "conn-fr", failure="receiver timed out", latency_ms=10_000)],
            respond=(200, 4002),
            correlation_id="dispute-1",
            when=T0 + timedelta(minutes=3),
        ),
        routed(
            "r5",
            receiver="XX*NOP",
            refuse=(200, 4001, "unknown receiver"),
            when=T0 + timedelta(minutes=4),
        ),
    )
    return store


def ids(store: Store, **filters: object) -> list[str]:
    view, runner = audit_view(store)
    runner.run_until_caught_up()
    return [m["request_id"] for m in view.find(MessageQuery(**filters))]  # type: ignore[arg-type]


def test_messages_come_newest_first_in_pages(filled: Store) -> None:
    assert ids(filled) == ["r5", "r4", "r3", "r2", "r1"]
    assert ids(filled, limit=2, offset=1) == ["r4", "r3"]


def test_messages_are_found_by_party_as_sender_or_receiver(filled: Store) -> None:
    assert ids(filled, party="DE*EMS") == ["r3", "r2", "r1"]
    assert ids(filled, party="DE*EMS", direction="sent") == ["r2"]
    assert ids(filled, party="DE*EMS", direction="received") == ["r3", "r1"]
    assert ids(filled, party="NL*CPO", counterpart="FR*EMP") == ["r4"]
    assert ids(filled, counterpart="XX*NOP") == ["r5"]


def test_messages_are_found_by_connection_module_and_object(filled: Store) -> None:
    assert ids(filled, connection="conn-fr") == ["r4"]
    assert ids(filled, connection="conn-ems") == ["r3", "r2", "r1"]
    assert ids(filled, module="tokens") == ["r2"]
    assert ids(filled, object_id="TOKEN9") == ["r3", "r2"]  # URL of r2, CDR body of r3
    assert ids(filled, object_id="CDR42") == ["r3"]
    assert ids(filled, object_id="LOC1") == ["r5", "r4", "r1"]


def test_messages_are_found_by_request_and_correlation_id(filled: Store) -> None:
    assert ids(filled, request_id="r2") == ["r2"]
    assert ids(filled, request_id="r3-leg1") == ["r3"]  # the id the hub gave the forwarded leg
    assert ids(filled, correlation_id="dispute-1") == ["r4", "r3"]


def test_messages_are_found_by_time_range_outcome_and_status(filled: Store) -> None:
    since, until = T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)
    assert ids(filled, since=since, until=until) == ["r3", "r2"]
    assert ids(filled, party="NL*CPO", since=since) == ["r5", "r4", "r3", "r2"]
    assert ids(filled, outcome="refused") == ["r5"]
    assert ids(filled, outcome="error") == ["r4", "r3"]
    assert ids(filled, outcome="success") == ["r2", "r1"]
    assert ids(filled, status=2001) == ["r3"]  # the receiver's answer on the leg
    assert ids(filled, status=4002) == ["r4"]
    assert ids(filled, status=4001, party="NL*CPO") == ["r5"]
    assert ids(filled, module="cdrs", correlation_id="dispute-1", outcome="error") == ["r3"]


def test_a_search_counts_every_match_whatever_the_page_up_to_a_cap(filled: Store) -> None:
    view, runner = audit_view(filled)
    runner.run_until_caught_up()
    def total(query: MessageQuery) -> int:
        counted = view.count(query)
        assert counted["total_exact"] is True
        return int(counted["total"])

    assert total(MessageQuery(limit=1, offset=3)) == 5
    assert total(MessageQuery(party="DE*EMS", direction="received")) == 2
    assert total(MessageQuery(correlation_id="dispute-1", outcome="error")) == 2
    assert total(MessageQuery(object_id="TOKEN9", since=T0 + timedelta(minutes=2))) == 1
    assert total(MessageQuery(module="ocpi-nothing")) == 0


def test_nonsense_queries_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidQuery, match="limit"):
        MessageQuery(limit=0)
    with pytest.raises(InvalidQuery, match="outcome"):
        MessageQuery(outcome="great")
    with pytest.raises(InvalidQuery, match="direction needs party"):
        MessageQuery(direction="sent")
    with pytest.raises(InvalidQuery, match="since"):
        MessageQuery(since=T0, until=T0)


def test_a_broadcast_timeline_shows_every_leg_its_answer_and_the_decision(store: Store) -> None:
    sent = routed(
        "b1",
        receiver=None,
        classification="BROADCAST",
        legs=[
            Leg("DE*EMS", "conn-ems", latency_ms=12),
            Leg("FR*EMP", "conn-fr", failure="connection refused", latency_ms=3),
            Leg("BE*EMS", "conn-be", ocpi_status=2001, answer=b'{"status_code":2001}'),
        ],
    )
    record(store, sent)
    timeline = message_timeline(LedgerArchive(store.ledger_db), store.ledger.mapper, sent.id)
    assert timeline is not None
    assert timeline["routing"]["classification"] == "BROADCAST"
    assert timeline["routing"]["reason"] == "BROADCAST routing"
    assert [leg["target_party"] for leg in timeline["legs"]] == ["DE*EMS", "FR*EMP", "BE*EMS"]
    assert [leg["outcome"] for leg in timeline["legs"]] == ["answered", "failed", "answered"]
    assert timeline["legs"][1]["result"]["reason"] == "connection refused"
    assert timeline["legs"][2]["result"]["body"]["text"] == '{"status_code":2001}'
    assert timeline["request"]["body"]["text"] == '{"id":"LOC1"}'
    assert "authorization" not in timeline["request"]["headers"]
    assert timeline["response"]["kind"] == "responded"
    events = [step["event"] for step in timeline["events"]]
    assert events == [
        "Received",
        "Routed",
        *["Forwarded"] * 3,
        *["Answered", "Failed"],
        "Answered",
        "Responded",
    ]
    assert all(step["chain"] is not None for step in timeline["events"])


def test_an_unknown_message_has_no_timeline(store: Store) -> None:
    archive = LedgerArchive(store.ledger_db)
    assert (
        message_timeline(archive, store.ledger.mapper, "6f1c8f4e-0000-4000-8000-000000000000")
        is None
    )


def test_the_rebuilt_audit_view_equals_the_live_one(filled: Store) -> None:
    view, live = audit_view(filled)
    live.batch_size = 3  # several batches, so rows are updated across batches
    live.run_until_caught_up()
    record(filled, routed("r6", when=T0 + timedelta(hours=2)))
    live.run_until_caught_up()
    before = view.find(MessageQuery(limit=100))
    keys = filled.ledger_db.query("SELECT * FROM audit_keys ORDER BY key, message_id")
    view.reset()
    assert view.find(MessageQuery()) == []
    _, rebuild = audit_view(filled)
    rebuild.run_until_caught_up()
    assert view.find(MessageQuery(limit=100)) == before
    assert filled.ledger_db.query("SELECT * FROM audit_keys ORDER BY key, message_id") == keys


def test_the_total_is_counted_exactly_up_to_a_cap_then_estimated(filled: Store) -> None:
    view, runner = audit_view(filled)
    runner.run_until_caught_up()
    assert view.count(MessageQuery()) == {"total": 5, "total_exact": True}
    assert view.count(MessageQuery(correlation_id="dispute-1")) == {
        "total": 2, "total_exact": True
    }  # fmt: skip
    assert view.count(MessageQuery(party="NL*CPO", module="tokens", limit=1))["total"] == 1
    assert view.count(MessageQuery(request_id="nobody")) == {"total": 0, "total_exact": True}
    capped = view.count(MessageQuery(), cap=3)
    assert capped["total_exact"] is False and capped["total"] >= 4
    assert view.count(MessageQuery(outcome="refused"), cap=3) == {"total": 1, "total_exact": True}
