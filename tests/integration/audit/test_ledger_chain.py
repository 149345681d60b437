"""The tamper-evident ledger on both stores: tampering done with raw SQL is found and located,
evidence bundles verify on their own, and redacted bodies keep the chain verifiable."""

import base64
import copy
from datetime import UTC, datetime, timedelta

import pytest

from application.evidence import verify_bundle
from application.retention import redact_expired_bodies
from infrastructure.ledger_chain import LedgerArchive, verify_ledger
from infrastructure.retention import SqlExpiringBodies
from infrastructure.store import Store
from tests.audit_support import Leg, evidence_bundle, record, routed


def ledger_with_messages(store: Store, count: int = 4) -> list[str]:
    sent = [routed(f"m{i}", body=b'{"id":"LOC%d"}' % i) for i in range(count)]
    for s in sent:
        record(store, s)
    return [s.id for s in sent]


def rows(store: Store) -> list[dict]:
    nid = "notification_id" if store.ledger_db.dialect == "postgres" else "rowid"
    table = "ledger_events" if store.ledger_db.dialect == "postgres" else "stored_events"
    return store.ledger_db.query(f"SELECT {nid} AS nid, topic FROM {table} ORDER BY {nid}")


def events_table(store: Store) -> tuple[str, str]:
    if store.ledger_db.dialect == "postgres":
        return "ledger_events", "notification_id"
    return "stored_events", "rowid"


def tamper(store: Store, sql: str, params: tuple = ()) -> None:
    table, nid = events_table(store)
    with store.ledger_db.transaction() as cursor:
        cursor.execute(sql.format(table=table, nid=nid), params)


def verify(store: Store):
    return verify_ledger(LedgerArchive(store.ledger_db), page_size=7)


def test_an_untouched_ledger_verifies(store: Store) -> None:
    ledger_with_messages(store)
    report = verify(store)
    assert report.ok, report.problems
    assert report.records == report.links == len(rows(store))
    assert report.bodies_checked > 0 and report.head_position == len(rows(store))


def test_an_edited_body_is_found_and_named(store: Store) -> None:
    ledger_with_messages(store)
    body = routed("m2", body=b'{"id":"LOC2"}').bodies[0]
    with store.ledger_db.transaction() as cursor:
        cursor.execute(
            "UPDATE message_bodies SET body = %s WHERE sha256 = %s",
            (b'{"id":"LOC2","price":0}', body.sha256),
        )
    problem = verify(store).first_problem
    assert problem is not None and problem.kind == "body_altered"
    assert body.sha256 in problem.detail


def test_edited_event_state_is_found_at_its_record(store: Store) -> None:
    ledger_with_messages(store)
    victim = rows(store)[5]["nid"]
    tamper(
        store,
        "UPDATE {table} SET state = %s WHERE {nid} = %s",
        (b'{"reason":"rewritten"}', victim),
    )
    report = verify(store)
    assert report.first_problem.kind == "record_altered"
    assert report.first_problem.notification_id == victim
    assert len(report.problems) == 1


def test_a_deleted_record_is_found(store: Store) -> None:
    ledger_with_messages(store)
    victim = rows(store)[5]["nid"]
    tamper(store, "DELETE FROM {table} WHERE {nid} = %s", (victim,))
    problem = verify(store).first_problem
    assert problem.kind == "record_removed" and problem.notification_id == victim


def test_a_record_deleted_with_its_link_is_found(store: Store) -> None:
    ledger_with_messages(store)
    victim = rows(store)[5]["nid"]
    tamper(store, "DELETE FROM {table} WHERE {nid} = %s", (victim,))
    with store.ledger_db.transaction() as cursor:
        cursor.execute("DELETE FROM ledger_chain WHERE notification_id = %s", (victim,))
    problem = verify(store).first_problem
    assert problem.kind == "link_missing" and problem.position == 6


def test_two_swapped_records_are_found_at_the_first(store: Store) -> None:
    ledger_with_messages(store)
    first, second = rows(store)[3]["nid"], rows(store)[4]["nid"]
    tamper(store, "UPDATE {table} SET {nid} = %s WHERE {nid} = %s", (-1, first))
    tamper(store, "UPDATE {table} SET {nid} = %s WHERE {nid} = %s", (first, second))
    tamper(store, "UPDATE {table} SET {nid} = %s WHERE {nid} = %s", (second, -1))
    report = verify(store)
    assert report.first_problem.kind == "record_replaced"
    assert report.first_problem.notification_id == first
    assert {p.notification_id for p in report.problems} == {first, second}


def test_a_record_slipped_in_outside_the_ledger_is_found(store: Store) -> None:
    ledger_with_messages(store, 1)
    table, _ = events_table(store)
    row = store.ledger_db.query(f"SELECT * FROM {table} LIMIT 1")[0]
    with store.ledger_db.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            (row["originator_id"], 99, row["topic"], row["state"]),
        )
    assert verify(store).first_problem.kind == "record_unchained"


def test_an_evidence_bundle_verifies_on_its_own_and_shows_tampering(store: Store) -> None:
    sent = routed("e1", correlation_id="dispute", legs=[Leg("DE*EMS", "conn-ems")])
    record(store, sent)
    bundle = evidence_bundle(store, [sent.id], {"correlation_id": "dispute"})
    result = verify_bundle(bundle)
    assert result["ok"], result["problems"]
    assert result["records"] == sent.message.version == 2
    assert result["bodies_kept"] == 2  # request; answer and reply are the same bytes

    altered = copy.deepcopy(bundle)
    body = next(iter(altered["bodies"].values()))
    body["data_base64"] = base64.b64encode(b'{"id":"LOC9"}').decode()
    assert [p["kind"] for p in verify_bundle(altered)["problems"]] == ["body_altered"]

    altered = copy.deepcopy(bundle)
    entry = altered["messages"][0]["records"][1]
    entry["state_base64"] = base64.b64encode(b'{"reason":"rewritten"}').decode()
    problems = verify_bundle(altered)["problems"]
    assert problems[0]["kind"] == "record_altered"
    assert problems[0]["originator_version"] == entry["originator_version"]

    altered = copy.deepcopy(bundle)
    altered["messages"][0]["records"][1]["readable"]["reason"] = "made up"
    assert [p["kind"] for p in verify_bundle(altered)["problems"]] == ["readable_altered"]


def test_redacted_bodies_keep_the_chain_and_bundles_verifiable(store: Store) -> None:
    sent = routed("old", correlation_id="c-old")
    record(store, sent)
    later = datetime.now(UTC) + timedelta(days=31)
    redacted = redact_expired_bodies(
        store.ledger, SqlExpiringBodies(store.ledger_db), retention_days=30, now=later
    )
    assert redacted == 2  # the request body, and the answer (same bytes as the reply)
    assert (
        redact_expired_bodies(
            store.ledger, SqlExpiringBodies(store.ledger_db), retention_days=30, now=later
        )
        == 0
    )
    report = verify(store)
    assert report.ok, report.problems
    assert report.bodies_redacted == 2
    bundle = evidence_bundle(store, [sent.id])
    assert {b["status"] for b in bundle["bodies"].values()} == {"redacted"}
    result = verify_bundle(bundle)
    assert result["ok"] and result["bodies_redacted"] == 2

    # A body emptied by hand, without a redaction event, is not a redaction.
    fresh = routed("new", body=b'{"id":"NEW"}')
    record(store, fresh)
    with store.ledger_db.transaction() as cursor:
        cursor.execute(
            "UPDATE message_bodies SET body = NULL WHERE sha256 = %s", (fresh.bodies[0].sha256,)
        )
    assert verify(store).first_problem.kind == "body_removed"


@pytest.mark.parametrize("batch", [1, 3])
def test_group_committed_batches_chain_like_single_saves(store: Store, batch: int) -> None:
    sent = [routed(f"g{i}") for i in range(6)]
    for start in range(0, len(sent), batch):
        record(store, *sent[start : start + batch])
    assert verify(store).ok
