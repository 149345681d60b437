"""Event recorders that also write routed-message bodies and the ledger's hash chain in the same
transaction as the events.

Bodies are content-addressed (SHA-256) so a body relayed to fifty receivers is stored once,
and events stay small: every projection reads every event, never the bodies.

The chain (see `domain/chain.py`) is extended inside the insert transaction, after the events
got their notification ids, while the events table is locked (PostgreSQL: EXCLUSIVE lock until
commit; SQLite: the file's write lock from the first insert), so the chain head read there is the
true head even when several nodes write one ledger concurrently. On PostgreSQL a whole commit is
one call of a server-side function (bodies, lock, events, links): one round trip per commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composed, Identifier

from infrastructure.ledger_chain import (
    CHAIN_TABLE,
    REGISTRY_CHAIN_TABLE,
    append_links,
    chain_ddl,
    chain_records,
)

BODIES_TABLE = "message_bodies"
APPEND_FUNCTION = "ledger_append"

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
            append_links(c, CHAIN_TABLE, chain_records(ids, stored_events), "?")
        return ids


class SQLiteRegistryRecorder(SQLiteApplicationRecorder):
    """The registry's events, hash-chained like the ledger's (`registry_chain`), so what time
    travel replays (connections, parties, suspensions) is as tamper-evident as the messages."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *chain_ddl(REGISTRY_CHAIN_TABLE)]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            # The file's write lock is held from the first insert: the head read is the head.
            append_links(c, REGISTRY_CHAIN_TABLE, chain_records(ids, stored_events), "?")
        return ids


class PostgresRegistryRecorder(PostgresApplicationRecorder):
    """The registry's events, hash-chained in the insert transaction (see the SQLite twin).

    The registry changes seldom, so links are computed here in Python, under the events
    table's EXCLUSIVE lock the library takes for every insert, not by a server function."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        quoted = self.datastore.schema.replace('"', '""')
        self._chain = f'"{quoted}".{REGISTRY_CHAIN_TABLE}'
        self.sql_create_statements.extend(
            SQL(statement.replace(f" {REGISTRY_CHAIN_TABLE} ", " {schema}.{table} ")).format(
                schema=schema, table=Identifier(REGISTRY_CHAIN_TABLE)
            )
            for statement in chain_ddl(REGISTRY_CHAIN_TABLE)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            append_links(curs, self._chain, chain_records(ids, stored_events), "%s")
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
        self.sql_create_statements.append(self._append_function_ddl())
        self.append_statement = SQL(
            "SELECT * FROM {schema}.{function}(%b::{id_type}[], %b::bigint[], %b::text[], "
            "%b::bytea[], %b::text[], %b::text[], %b::int[], %b::bytea[], %b::text[])"
        ).format(
            schema=schema,
            function=Identifier(APPEND_FUNCTION),
            id_type=SQL(self.datastore.originator_id_type),
        )

    def _append_function_ddl(self) -> Composed:
        """One call records a commit: bodies, the events under the table lock, their chain links.

        The link hash is `domain.chain.link_hash` computed by the server: the same JSON text
        (`["prev",id,"originator",version,"topic","sha256(state)",[body hashes]]`, no spaces),
        hashed with SHA-256. `ocpi-ledger verify` recomputes every link in Python, so any
        difference between the two shows as a broken chain in the tests.
        """
        return SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}("
            "ids {id_type}[], versions bigint[], topics text[], states bytea[], "
            "body_shas text[], body_types text[], body_sizes int[], body_data bytea[], "
            "redact text[]) RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
            "DECLARE head record; prev text; pos bigint; r record; bh text; h text; "
            "BEGIN "
            "IF cardinality(body_shas) > 0 THEN "
            "  INSERT INTO {schema}.{bodies} AS b (sha256, content_type, size, body) "
            "  SELECT * FROM unnest(body_shas, body_types, body_sizes, body_data) "
            "  ON CONFLICT (sha256) DO UPDATE SET stored_at = now(), "
            "  body = COALESCE(b.body, excluded.body); "
            "END IF; "
            "IF cardinality(redact) > 0 THEN "
            "  UPDATE {schema}.{bodies} SET body = NULL WHERE sha256 = ANY(redact); "
            "END IF; "
            "IF cardinality(ids) = 0 THEN RETURN; END IF; "
            "SET LOCAL lock_timeout = '{lock_timeout}s'; "
            "LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "SELECT c.position, c.hash INTO head FROM {schema}.{chain} c "
            "ORDER BY c.position DESC LIMIT 1; "
            "prev := COALESCE(head.hash, repeat('0', 64)); "
            "pos := COALESCE(head.position, 0); "
            "FOR r IN WITH inserted AS ("
            "  INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state) "
            "  SELECT * FROM unnest(ids, versions, topics, states) "
            "  RETURNING notification_id, originator_id, originator_version, topic, state) "
            "SELECT * FROM inserted ORDER BY notification_id LOOP "
            "  bh := CASE WHEN get_byte(r.state, 0) = 123 "
            "        THEN convert_from(r.state, 'UTF8')::jsonb ->> 'body_sha256' END; "
            "  h := encode(sha256(convert_to('[\"' || prev || '\",' || r.notification_id "
            "    || ',\"' || r.originator_id::text || '\",' || r.originator_version || ',' "
            "    || to_json(r.topic)::text || ',\"' || encode(sha256(r.state), 'hex') || '\",' "
            "    || CASE WHEN bh ~ '^[0-9a-f]{{64}}$' THEN '[\"' || bh || '\"]' ELSE '[]' END "
            "    || ']', 'UTF8')), 'hex'); "
            "  pos := pos + 1; "
            "  INSERT INTO {schema}.{chain} (position, notification_id, originator_id, "
            "  originator_version, prev_hash, hash) VALUES "
            "  (pos, r.notification_id, r.originator_id::text, r.originator_version, prev, h); "
            "  prev := h; "
            "  RETURN NEXT r.notification_id; "
            "END LOOP; "
            "END $BODY$"
        ).format(
            schema=Identifier(self.datastore.schema),
            function=Identifier(APPEND_FUNCTION),
            id_type=SQL(self.datastore.originator_id_type),
            bodies=Identifier(BODIES_TABLE),
            events=Identifier(self.events_table_name),
            chain=Identifier(CHAIN_TABLE),
            channel=Identifier(self.channel_name),
            lock_timeout=SQL(str(int(self.datastore.lock_timeout))),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        bodies: Sequence[BodyRow] = (),
        redact_bodies: Sequence[str] = (),
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # Sorted, so two transactions upserting the same bodies lock them in one order.
        body_rows = sorted((sha, ctype, len(body), body) for sha, ctype, body in bodies)
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
            *_columns(body_rows, 4),
            list(redact_bodies),
        )
        with self.datastore.get_connection() as conn:
            # One statement in its own transaction: one round trip, where BEGIN ... COMMIT
            # around it (even pipelined) cost several waits on the server per commit.
            conn.autocommit = True
            try:
                with conn.cursor() as curs:
                    curs.execute(self.append_statement, params, prepare=True)
                    ids = [row[APPEND_FUNCTION] for row in curs.fetchall()]
            finally:
                with suppress(psycopg.Error):  # a broken connection leaves the pool anyway
                    conn.autocommit = False
        return ids if stored_events else None


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to parallel column lists, the parameters of an `unnest(...)` insert."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
