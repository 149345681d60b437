"""SQL tables of the hub's routing knowledge: its copy of broadcast objects and the owner index.

Both live next to the message ledger (same database file / schema): they grow with routed
traffic, not with the registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from application.hub_store import ObjectKey, Page
from application.owner_index import OwnerFact
from domain.values import PartyRef
from infrastructure.sql import Database

_OBJECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS hub_objects ("
    "module TEXT NOT NULL, country_code TEXT NOT NULL, party_id TEXT NOT NULL, "
    "object_id TEXT NOT NULL, token_type TEXT NOT NULL, last_updated TEXT NOT NULL, "
    "document TEXT NOT NULL, "
    "PRIMARY KEY (module, country_code, party_id, object_id, token_type))",
    "CREATE INDEX IF NOT EXISTS hub_objects_by_date ON hub_objects "
    "(module, last_updated, country_code, party_id, object_id, token_type)",
)

_OWNERS_DDL = (
    "CREATE TABLE IF NOT EXISTS hub_owner_index ("
    "kind TEXT NOT NULL, object_key TEXT NOT NULL, country_code TEXT NOT NULL, "
    "party_id TEXT NOT NULL, PRIMARY KEY (kind, object_key, country_code, party_id))",
)

_KEY = "module = %s AND country_code = %s AND party_id = %s AND object_id = %s AND token_type = %s"


def _key(key: ObjectKey) -> tuple[str, str, str, str, str]:
    return (key.module, key.owner.country_code, key.owner.party_id, key.object_id, key.token_type)


def _create(database: Database, statements: Iterable[str]) -> None:
    with database.transaction() as cursor:
        for statement in statements:
            cursor.execute(statement)


class SqlHubObjectStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        _create(database, _OBJECTS_DDL)

    def get(self, key: ObjectKey) -> bytes | None:
        row = self.database.query_one(f"SELECT document FROM hub_objects WHERE {_KEY}", _key(key))
        return None if row is None else str(row["document"]).encode("utf-8")

    def put(self, key: ObjectKey, document: bytes, last_updated: str) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO hub_objects (module, country_code, party_id, object_id, token_type, "
                "last_updated, document) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (module, country_code, party_id, object_id, token_type) DO UPDATE "
                "SET last_updated = excluded.last_updated, document = excluded.document",
                (*_key(key), last_updated, document.decode("utf-8")),
            )

    def delete(self, key: ObjectKey) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(f"DELETE FROM hub_objects WHERE {_KEY}", _key(key))

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page:
        where = ["module = %s"]
        params: list[object] = [module]
        if date_from is not None:
            where.append("last_updated >= %s")
            params.append(date_from)
        if date_to is not None:
            where.append("last_updated < %s")
            params.append(date_to)
        condition = " AND ".join(where)
        with self.database.transaction() as cursor:
            total = cursor.execute(
                f"SELECT COUNT(*) AS n FROM hub_objects WHERE {condition}", params
            ).fetchone()
            rows = cursor.execute(
                f"SELECT document FROM hub_objects WHERE {condition} "
                "ORDER BY last_updated, country_code, party_id, object_id, token_type "
                "LIMIT %s OFFSET %s",
                [*params, limit, offset],
            ).fetchall()
        return Page(
            documents=[str(row["document"]).encode("utf-8") for row in rows],
            total=int(total["n"]) if total else 0,
        )


class SqlOwnerFactStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        _create(database, _OWNERS_DDL)

    def add(self, fact: OwnerFact) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO hub_owner_index (kind, object_key, country_code, party_id) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (fact.kind, fact.key, fact.owner.country_code, fact.owner.party_id),
            )

    def all(self) -> list[OwnerFact]:
        rows = self.database.query(
            "SELECT kind, object_key, country_code, party_id FROM hub_owner_index"
        )
        return [
            OwnerFact(r["kind"], r["object_key"], PartyRef(r["country_code"], r["party_id"]))
            for r in rows
        ]
