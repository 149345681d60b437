"""SQL views that record, in the same transaction as their rows, how far they have read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from application.projection import Projection, TrackedView
from infrastructure.sql import Cursor, Database

W = TypeVar("W")

TRACKING_DDL = (
    "CREATE TABLE IF NOT EXISTS projection_tracking ("
    "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
)


class SqlTrackedView(TrackedView[W], Generic[W]):
    """Base of persisted views. Subclasses give DDL, the table list and a writer bound to a cursor.

    Exactly-once: the position moves by a compare-and-set inside the batch's transaction, so a
    batch is applied once even when two nodes run the same projection on one PostgreSQL.
    """

    name: str
    ddl: Sequence[str] = ()
    tables: Sequence[str] = ()

    def __init__(self, database: Database) -> None:
        self.database = database
        # Each statement commits on its own: another process (a node, `ocpi-ledger views`) may
        # be applying a batch to these tables right now. In one transaction, CREATE INDEX IF NOT
        # EXISTS (a share lock on the table) followed by the tracking insert (waiting for the
        # row that batch holds) deadlocked with that batch (seen on PostgreSQL).
        for statement in (TRACKING_DDL, *self.ddl):
            with database.transaction() as cursor:
                cursor.execute(statement)
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO projection_tracking (name, position) VALUES (%s, 0) "
                "ON CONFLICT (name) DO NOTHING",
                (self.name,),
            )

    def writer(self, cursor: Cursor) -> W:
        raise NotImplementedError

    def position(self) -> int:
        row = self.database.query_one(
            "SELECT position FROM projection_tracking WHERE name = %s", (self.name,)
        )
        return int(row["position"]) if row else 0

    def apply_batch(
        self,
        projection: Projection[W],
        events: Sequence[Any],
        from_position: int,
        to_position: int,
    ) -> bool:
        with self.database.transaction() as cursor:
            moved = cursor.execute(
                "UPDATE projection_tracking SET position = %s WHERE name = %s AND position = %s",
                (to_position, self.name, from_position),
            ).rowcount
            if moved != 1:
                return False
            writer = self.writer(cursor)
            projection.prepare(events, writer)
            for event in events:
                projection.process(event, writer)
            # Writers that batch their rows in memory write them here, in the same transaction.
            flush = getattr(writer, "flush", None)
            if flush is not None:
                flush()
        return True

    def reset(self) -> None:
        with self.database.transaction() as cursor:
            for table in self.tables:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                "UPDATE projection_tracking SET position = 0 WHERE name = %s", (self.name,)
            )
