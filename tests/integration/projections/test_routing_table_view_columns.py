"""A persisted routing table made before connections had a proposed version or a translation
policy gets the columns, and its rows read as "nothing proposed", "refuses nothing" (both
stores)."""

from __future__ import annotations

from dataclasses import replace

from application.routing_table import ConnectionEntry
from domain.values import ConnectionStatus
from infrastructure.routing_table_view import SqlRoutingTableView
from infrastructure.store import Store

OLD_DDL = (
    "CREATE TABLE rt_connections (id TEXT PRIMARY KEY, label TEXT, initiated_by TEXT, "
    "status TEXT NOT NULL, version TEXT, versions_url TEXT, endpoints TEXT, roles TEXT, "
    "unregistered INTEGER NOT NULL DEFAULT 0, status_reason TEXT, token_a_hash TEXT, "
    "created_at TEXT, updated_at TEXT)"
)


def test_an_old_connections_table_gains_the_proposal_and_policy_columns_and_keeps_its_rows(
    store: Store,
) -> None:
    database = store.registry_db
    with database.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rt_connections")
        cursor.execute(OLD_DDL)
        cursor.execute(
            "INSERT INTO rt_connections (id, label, initiated_by, status, version) "
            "VALUES (%s, %s, %s, %s, %s)",
            ("old", "before", "peer", "CONNECTED", "2.2.1"),
        )

    view = SqlRoutingTableView(database)
    old = view.connection("old")
    entry = ConnectionEntry(
        id="new", label="cpo", initiated_by="peer", status=ConnectionStatus.PLANNED
    )
    with database.transaction() as cursor:
        view.writer(cursor).put_connection(
            replace(
                entry,
                proposed_version="2.1.1",
                proposed_role="CPO",
                refuse_losing=("tariffs.min_price",),
            )
        )

    assert old is not None
    assert (old.version, old.proposed_version, old.proposed_role, old.refuse_losing) == (
        "2.2.1",
        None,
        None,
        (),
    )
    new = view.connection("new")
    assert new is not None and (new.proposed_version, new.proposed_role) == ("2.1.1", "CPO")
    assert new.refuse_losing == ("tariffs.min_price",)
