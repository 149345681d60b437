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
        self.insert_body_statement = SQL(
            "INSERT INTO {schema}.{table} AS b (sha256, content_type, size, body) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO UPDATE SET stored_at = now(), "
            "body = COALESCE(b.body, excluded.body)"
        ).format(schema=schema, table=Identifier(BODIES_TABLE))
        self.redact_body_statement = SQL(
            "UPDATE {schema}.{table} SET body = NULL WHERE sha256 = %s"
        ).format(schema=schema, table=Identifier(BODIES_TABLE))
        self.select_chain_head_statement = SQL(
            "SELECT * FROM {schema}.{table} ORDER BY position DESC LIMIT 1"
        ).format(schema=schema, table=Identifier(CHAIN_TABLE))
        self.insert_link_statement = SQL(
            "INSERT INTO {schema}.{table} (position, notification_id, originator_id, "
            "originator_version, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s)"
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
            curs.executemany(
                self.insert_body_statement,
                sorted((sha, ctype, len(body), body) for sha, ctype, body in bodies),
            )
        if redact_bodies:
            curs.executemany(self.redact_body_statement, [(sha,) for sha in redact_bodies])
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        super()._insert_stored_events(curs, stored_events, **kwargs)
        # Queued behind the lock and the insert in the same pipeline, so the chain head comes
        # back with the notification ids in one round trip instead of a second one.
        head_cursor = curs.connection.cursor()
        head_cursor.execute(self.select_chain_head_statement)
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
            curs.executemany(self.insert_link_statement, [_link_params(link) for link in links])
        return ids


def _link_params(link: ChainLink) -> tuple[int, int, str, int, str, str]:
    return (
        link.position,
        link.notification_id,
        link.originator_id,
        link.originator_version,
        link.prev_hash,
        link.hash,
    )
