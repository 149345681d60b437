"""The registry (connections, parties: what time travel replays) is hash-chained like the
message ledger and checked by the same verify, on both stores."""

from uuid import UUID

from application.tokens import hash_token
from domain.values import OCPI_VERSION
from infrastructure.ledger_chain import LedgerArchive, adopt_unchained, verify_ledger
from infrastructure.store import Store


def connected_then_suspended(store: Store) -> str:
    connection_id, _token_a, _ = store.registry.invite("CPO platform")
    store.registry.register_connection(
        connection_id,
        OCPI_VERSION,
        "http://cpo.example/ocpi/versions",
        [],
        [{"role": "CPO", "country_code": "NL", "party_id": "CPO",
          "business_details": {"name": "CPO"}}],
        hash_token("inbound-token-of-the-cpo"),
        "outbound-token-of-the-cpo",
    )  # fmt: skip
    store.registry.suspend_connection(connection_id, "unpaid invoices")
    return str(connection_id)


def registry_events(store: Store) -> tuple[str, str]:
    if store.registry_db.dialect == "postgres":
        return "registry_events", "notification_id"
    return "stored_events", "rowid"


def verify_registry(store: Store):
    return verify_ledger(LedgerArchive(store.registry_db, "registry"))


def test_connection_and_party_events_are_chained_and_verify(store: Store) -> None:
    connected_then_suspended(store)
    report = verify_registry(store)
    assert report.ok, report.problems
    # invited, registered, party created, suspended, party route suspended
    assert report.records == report.links == report.head_position >= 5


def test_a_deleted_suspension_event_is_found(store: Store) -> None:
    connection_id = connected_then_suspended(store)
    table, nid = registry_events(store)
    rows = store.registry_db.query(
        f"SELECT {nid} AS nid, topic FROM {table} ORDER BY {nid}"
    )
    suspended = next(r["nid"] for r in rows if r["topic"].endswith("Connection.Suspended"))
    with store.registry_db.transaction() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {nid} = %s", (suspended,))
    problem = verify_registry(store).first_problem
    assert problem is not None and problem.kind == "record_removed"
    assert problem.chain == "registry" and problem.originator_id == connection_id


def test_a_suspension_deleted_with_its_link_breaks_the_chain(store: Store) -> None:
    connected_then_suspended(store)
    table, nid = registry_events(store)
    rows = store.registry_db.query(f"SELECT {nid} AS nid, topic FROM {table} ORDER BY {nid}")
    suspended = next(r["nid"] for r in rows if r["topic"].endswith("Connection.Suspended"))
    with store.registry_db.transaction() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {nid} = %s", (suspended,))
        cursor.execute("DELETE FROM registry_chain WHERE notification_id = %s", (suspended,))
    problem = verify_registry(store).first_problem
    assert problem is not None and problem.kind in ("link_missing", "chain_broken")


def test_a_registry_from_before_the_chain_is_adopted_once_at_start(store: Store) -> None:
    connection_id = connected_then_suspended(store)
    with store.registry_db.transaction() as cursor:
        cursor.execute("DELETE FROM registry_chain")  # as a store written by an older node
    archive = LedgerArchive(store.registry_db, "registry")
    assert verify_ledger(archive).first_problem.kind == "chain_missing"

    adopted = adopt_unchained(archive)

    assert adopted >= 5 and adopt_unchained(archive) == 0
    store.registry.reactivate_connection(UUID(connection_id), "invoices paid")
    report = verify_ledger(archive)
    assert report.ok, report.problems
    assert report.records == adopted + 2  # reactivated: the connection and its party route
