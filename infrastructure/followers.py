"""Background workers that are not projections: log followers with side effects, periodic tasks.

A follower keeps its own position (table `follower_positions`) and saves it after its side
effects, so it runs at least once per event; projections keep theirs in `projection_tracking`
with their rows, exactly once. The two never share a transaction.
"""

from __future__ import annotations

from infrastructure.background_loop import BackgroundLoop
from infrastructure.sql import Database

__all__ = ["BackgroundLoop", "SqlPositionStore"]

_DDL = (
    "CREATE TABLE IF NOT EXISTS follower_positions (name TEXT PRIMARY KEY, "
    "position BIGINT NOT NULL)"
)


class SqlPositionStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as cursor:
            cursor.execute(_DDL)

    def get(self, name: str) -> int:
        row = self.database.query_one(
            "SELECT position FROM follower_positions WHERE name = %s", (name,)
        )
        return int(row["position"]) if row else 0

    def set(self, name: str, position: int) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO follower_positions (name, position) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (name, position),
            )
