"""Event recorders that also write routed-message bodies in the same transaction.

Bodies are content-addressed (SHA-256) so a body relayed to fifty receivers is stored once,
and events stay small: every projection reads every event, never the bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

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
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        bodies: Sequence[BodyRow] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        for sha256, content_type, body in bodies:
            c.execute(
                f"INSERT OR IGNORE INTO {BODIES_TABLE} (sha256, content_type, size, body) "
                "VALUES (?, ?, ?, ?)",
                (sha256, content_type, len(body), body),
            )
        return super()._insert_events(c, stored_events, **kwargs)


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
        self.insert_body_statement = SQL(
            "INSERT INTO {schema}.{table} (sha256, content_type, size, body) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (sha256) DO NOTHING"
        ).format(schema=schema, table=Identifier(BODIES_TABLE))

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        bodies: Sequence[BodyRow] = (),
        **kwargs: Any,
    ) -> None:
        if bodies:
            curs.executemany(
                self.insert_body_statement,
                [(sha, ctype, len(body), body) for sha, ctype, body in bodies],
            )
        super()._insert_events(curs, stored_events, **kwargs)
