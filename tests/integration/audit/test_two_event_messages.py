"""Messages stored as two events (Admitted, Concluded; issue 15) and messages stored one event
per step (ledgers written before) read alike, on both stores: the same audit rows and keys,
the same traffic, the same timeline and receipt; and a ledger holding both verifies, rebuilds
and gives evidence that verifies."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.audit import MessageQuery
from application.evidence import verify_bundle
from application.receipts import issue_receipt
from application.timeline import message_timeline
from application.traffic import TrafficQuery
from infrastructure.ledger_chain import LedgerArchive, verify_chains
from infrastructure.store import Store, open_store
from tests.audit_support import (
    Leg,
    Sent,
    audit_view,
    checkpoints_of,
    evidence_bundle,
    record,
    record_before_issue_15,
    routed,
    traffic_view,
)
from tests.conftest import STORES, fresh_database

T0 = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)


def messages() -> list[Sent]:
    """One of each shape: answered, answered with an error, failed leg, refused, broadcast."""
    return [
        routed("ok", when=T0),
        routed(
            "error",
            module="cdrs",
            method="POST",
            path="",
            body=b'{"id":"CDR42","cdr_token":{"uid":"TOKEN9"}}',
            legs=[Leg("DE*EMS", "conn-ems", ocpi_status=2001, answer=b'{"status_code":2001}')],
            when=T0 + timedelta(minutes=1),
        ),
        routed(
            "timeout",
            receiver="FR*EMP",
            legs=[Leg("FR*EMP", "conn-fr", failure="receiver timed out", latency_ms=10_000)],
            respond=(200, 4002),
            when=T0 + timedelta(minutes=2),
        ),
        routed(
            "refused",
            receiver="XX*NOP",
            refuse=(200, 4001, "unknown receiver"),
            when=T0 + timedelta(minutes=3),
        ),
        routed(
            "broadcast",
            receiver=None,
            classification="BROADCAST",
            legs=[
                Leg("DE*EMS", "conn-ems", latency_ms=12),
                Leg("FR*EMP", "conn-fr", failure="connection refused", latency_ms=3),
            ],
            when=T0 + timedelta(minutes=4),
        ),
    ]


@pytest.fixture(params=STORES)
def two_ledgers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Store, Store]]:
    """The same messages, stored as two events each in the first store and one event per
    step (as before issue 15) in the second."""
    databases = [fresh_database(request.param, tmp_path_factory) for _ in range(2)]
    new, old = (open_store(next(database)) for database in databases)
    try:
        record(new, *messages())
        record_before_issue_15(old, *messages())
        yield new, old
    finally:
        new.close()
        old.close()
        for database in databases:
            next(database, None)


def stored_topics(store: Store) -> list[str]:
    table = "ledger_events" if store.ledger_db.dialect == "postgres" else "stored_events"
    rows = store.ledger_db.query(f"SELECT topic FROM {table}")
    return sorted({row["topic"].rsplit(".", 1)[-1] for row in rows})


def timeline(store: Store, message_id: str) -> dict[str, Any]:
    """The timeline without where each step is stored (version, notification, link)."""
    found = message_timeline(LedgerArchive(store.ledger_db), store.ledger.mapper, message_id)
    assert found is not None
    for step in found["events"]:
        for where in ("version", "notification_id", "chain"):
            step.pop(where)
    return found


def test_the_new_ledger_holds_two_events_per_message_and_one_for_a_refusal(two_ledgers) -> None:
    new, old = two_ledgers
    assert stored_topics(new) == ["Admitted", "Concluded"]
    assert new.ledger.recorder.max_notification_id() == 4 * 2 + 1
    assert old.ledger.recorder.max_notification_id() == 5 + 5 + 5 + 2 + 7


def test_old_and_new_records_give_the_same_audit_rows_and_keys(two_ledgers) -> None:
    found = []
    for store in two_ledgers:
        view, runner = audit_view(store)
        runner.batch_size = 4  # a message's steps across batches
        runner.run_until_caught_up()
        keys = store.ledger_db.query("SELECT * FROM audit_keys ORDER BY key, message_id")
        found.append((view.find(MessageQuery(limit=100)), keys))
    (new_rows, new_keys), (old_rows, old_keys) = found
    assert len(new_rows) == 5 and new_rows == old_rows and new_keys == old_keys
    outcomes = {row["request_id"]: row["outcome"] for row in new_rows}
    assert outcomes == {
        "ok": "success",
        "error": "error",
        "timeout": "error",
        "refused": "refused",
        "broadcast": "success",
    }


def test_old_and_new_records_give_the_same_traffic(two_ledgers) -> None:
    reports = []
    for store in two_ledgers:
        view, runner = traffic_view(store)
        runner.run_until_caught_up()
        reports.append(view.report(TrafficQuery(granularity="hour")))
    assert reports[0]["series"] and reports[0] == reports[1]


def test_old_and_new_records_give_the_same_timeline_and_receipt(two_ledgers) -> None:
    new, old = two_ledgers
    for sent in messages():
        assert timeline(new, sent.id) == timeline(old, sent.id), sent.id
        receipts = [
            issue_receipt(LedgerArchive(s.ledger_db), checkpoints_of(s), sent.id, None, "now")
            for s in two_ledgers
        ]
        for receipt in receipts:
            for stored in ("records", "checkpoint", "signature", "key_id"):
                receipt.pop(stored, None)
        assert receipts[0] == receipts[1], sent.id
    steps = [step["event"] for step in timeline(new, messages()[-1].id)["events"]]
    assert steps == [
        "Received",
        "Routed",
        "Forwarded",
        "Forwarded",
        "Answered",
        "Failed",
        "Responded",
    ]


def test_a_ledger_of_old_and_new_records_verifies_rebuilds_and_gives_evidence(two_ledgers) -> None:
    _, mixed = two_ledgers
    later = routed("later", when=T0 + timedelta(hours=1), legs=[Leg("DE*EMS", "conn-ems")])
    record(mixed, later)
    report = verify_chains([LedgerArchive(mixed.ledger_db)])
    assert report["ok"], report["problems"]
    assert report["records"] == 24 + 2
    bundle = evidence_bundle(mixed, [messages()[0].id, later.id])
    result = verify_bundle(bundle)
    assert result["ok"], result["problems"]
    assert [m["complete"] for m in bundle["proof"]["messages"]] == [True, True]
    assert result["bodies_kept"] == 2  # the request; answer and reply are the same bytes

    view, live = audit_view(mixed)
    live.run_until_caught_up()
    before = view.find(MessageQuery(limit=100))
    view.reset()
    _, rebuild = audit_view(mixed)
    rebuild.run_until_caught_up()
    assert len(before) == 6 and view.find(MessageQuery(limit=100)) == before
