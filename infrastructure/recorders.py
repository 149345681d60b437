"""Event recorders that also write routed-message bodies and the ledger's hash chain in the same
transaction as the events.

Bodies are content-addressed (SHA-256) so a body relayed to fifty receivers is stored once,
and events stay small: every projection reads every event, never the bodies.

The chain (see `domain/chain.py`) is extended inside the insert transaction, after the events
got their notification ids: on PostgreSQL the library holds an EXCLUSIVE lock on the events table
until commit, on SQLite the file's write lock is held from the first insert, so the chain head
read here is the true head even when several nodes write one ledger concurrently.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.chain import ChainLink, extend_chain
from infrastructure.ledger_chain import (
    CHAIN_TABLE,
    chain_ddl,
    chain_records,
    link_from_row,
)

BODIES_TABLE = "message_bodies"

BodyRow = tuple[str, str, bytes]
"""(sha256 hex, content type, body bytes)"""


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {BODIES_TABLE} ("
            "sha256 TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL, "
            "body BLOB, stored_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
            f"CREATE INDEX IF NOT EXISTS {BODIES_TABLE}_stored_at ON {BODIES_TABLE} (stored_at)",
            *chain_ddl(),
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        bodies: Sequence[BodyRow] = (),
        redact_bodies: Sequence[str] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        for sha256, content_type, body in bodies:
            # A body seen again starts its retention period again (and comes back if redacted).
            c.execute(
                f"INSERT INTO {BODIES_TABLE} (sha256, content_type, size, body) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET "
                "stored_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
                f"body = COALESCE({BODIES_TABLE}.body, excluded.body)",
                (sha256, content_type, len(body), body),
            )
        for sha256 in redact_bodies:
            c.execute(f"UPDATE {BODIES_TABLE} SET body = NULL WHERE sha256 = ?", (sha256,))
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            c.execute(f"SELECT * FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            head = link_from_row(dict(row)) if row else None
            links = extend_chain(head, chain_records(ids, stored_events))
            c.executemany(
                f"INSERT INTO {CHAIN_TABLE} (position, notification_id, originator_id, "
                "originator_version, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                [_link_params(link) for link in links],
            )
        return ids


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "sha256 text PRIMARY KEY, content_type text NOT NULL, size integer NOT NULL, "
                "body bytea, stored_at timestamptz NOT NULL DEFAULT now())"
            ).format(schema=schema, table=Identifier(BODIES_TABLE))
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (stored_at)").format(
                index=Identifier(f"{BODIES_TABLE}_stored_at"),
                schema=schema,
                table=Identifier(BODIES_TABLE),
            )
        )
        # Unqualified names in the DDL resolve in the node's schema.
        self.sql_create_statements.extend(
            SQL(statement.replace(f" {CHAIN_TABLE} ", " {schema}.{table} ")).format(
                schema=schema, table=Identifier(CHAIN_TABLE)
            )
            for statement in chain_ddl()
        )
        # One statement per table whatever the batch size, each row's columns as parallel
        # arrays: psycopg dumps arrays of plain types in C, while the library's array of
        # composite rows is dumped in Python, and executemany costs a statement per row.
        self.insert_bodies_statement = SQL(
            "INSERT INTO {schema}.{table} AS b (sha256, content_type, size, body) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::int[], %b::bytea[]) "
            "ON CONFLICT (sha256) DO UPDATE SET stored_at = now(), "
            "body = COALESCE(b.body, excluded.body)"
        ).format(schema=schema, table=Identifier(BODIES_TABLE))
        self.redact_bodies_statement = SQL(
            "UPDATE {schema}.{table} SET body = NULL WHERE sha256 = ANY(%s::text[])"
        ).format(schema=schema, table=Identifier(BODIES_TABLE))
        self.insert_ledger_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=schema,
            table=Identifier(self.events_table_name),
            id_type=SQL(self.datastore.originator_id_type),
        )
        self.select_chain_head_statement = SQL(
            "SELECT * FROM {schema}.{table} ORDER BY position DESC LIMIT 1"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        self.insert_links_statement = SQL(
            "INSERT INTO {schema}.{table} (position, notification_id, originator_id, "
            "originator_version, prev_hash, hash) "
            "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::text[], %b::bigint[], "
            "%b::text[], %b::text[])"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        self._head_reads = threading.local()

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        bodies: Sequence[BodyRow] = (),
        redact_bodies: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        if bodies:
            # Sorted, so two transactions upserting the same bodies lock them in one order.
            rows = sorted((sha, ctype, len(body), body) for sha, ctype, body in bodies)
            curs.execute(self.insert_bodies_statement, _columns(rows, 4), prepare=True)
        if redact_bodies:
            curs.execute(self.redact_bodies_statement, (list(redact_bodies),), prepare=True)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_ledger_events_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )
        # Queued behind the lock and the insert in the same pipeline, so the chain head comes
        # back with the notification ids in one round trip instead of a second one.
        head_cursor = curs.connection.cursor()
        head_cursor.execute(self.select_chain_head_statement, prepare=True)
        self._head_reads.cursor = head_cursor

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # Still inside the transaction that holds the EXCLUSIVE lock on the events table.
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        head_cursor: Cursor[DictRow] = self._head_reads.__dict__.pop("cursor")
        with head_cursor:
            row = head_cursor.fetchone()
        if ids:
            head: ChainLink | None = link_from_row(row) if row else None
            links = extend_chain(head, chain_records(ids, stored_events))
            curs.execute(
                self.insert_links_statement,
                _columns([_link_params(link) for link in links], 6),
                prepare=True,
            )
        return ids


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to parallel column lists, the parameters of an `unnest(...)` insert."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _link_params(link: ChainLink) -> tuple[int, int, str, int, str, str]:
    return (
        link.position,
        link.notification_id,
        link.originator_id,
        link.originator_version,
        link.prev_hash,
        link.hash,
    )
