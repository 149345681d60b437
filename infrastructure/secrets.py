"""Node-level secrets kept in the registry database; only hashes are stored."""

from __future__ import annotations

from infrastructure.sql import Database

_DDL = "CREATE TABLE IF NOT EXISTS node_secrets (name TEXT PRIMARY KEY, value_hash TEXT NOT NULL)"


class SecretStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as cursor:
            cursor.execute(_DDL)

    def get_hash(self, name: str) -> str | None:
        row = self.database.query_one(
            "SELECT value_hash FROM node_secrets WHERE name = %s", (name,)
        )
        return None if row is None else str(row["value_hash"])

    def put_hash_if_absent(self, name: str, value_hash: str) -> str:
        """Store `value_hash` unless one is stored already; return the hash now in force.

        Two nodes starting at once on one PostgreSQL agree on a single admin token this way.
        """
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO node_secrets (name, value_hash) VALUES (%s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, value_hash),
            )
            row = cursor.execute(
                "SELECT value_hash FROM node_secrets WHERE name = %s", (name,)
            ).fetchone()
        assert row is not None
        return str(row["value_hash"])
