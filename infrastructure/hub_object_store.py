"""SQL tables of the hub's routing knowledge: its copy of broadcast objects and the owner index.

Both live next to the message ledger (same database file / schema): they grow with routed
traffic, not with the registry. The objects are a tracked view of the ledger
(`application.hub_objects.HubObjectsProjection`), rebuildable from event zero.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from application.hub_objects import HubObjectsProjection, HubObjectsWriter, PendingPush
from application.hub_store import ObjectKey, Page
from application.owner_index import OwnerFact
from domain.values import OCPI_VERSION, PartyRef
from infrastructure.body_reader import LedgerBodies
from infrastructure.sql import Cursor, Database
from infrastructure.tracked_view import SqlTrackedView

log = logging.getLogger(__name__)

_OWNERS_DDL = (
    "CREATE TABLE IF NOT EXISTS hub_owner_index ("
    "kind TEXT NOT NULL, object_key TEXT NOT NULL, country_code TEXT NOT NULL, "
    "party_id TEXT NOT NULL, PRIMARY KEY (kind, object_key, country_code, party_id))",
)

_KEY = "module = %s AND country_code = %s AND party_id = %s AND object_id = %s AND token_type = %s"


def _key(key: ObjectKey) -> tuple[str, str, str, str, str]:
    return (key.module, key.owner.country_code, key.owner.party_id, key.object_id, key.token_type)


def _key_of(row: dict[str, Any]) -> ObjectKey:
    owner = PartyRef(row["country_code"], row["party_id"])
    return ObjectKey(row["module"], owner, row["object_id"], row["token_type"])


def _create(database: Database, statements: Iterable[str]) -> None:
    with database.transaction() as cursor:
        for statement in statements:
            cursor.execute(statement)


_KEY_COLUMNS = "module, country_code, party_id, object_id, token_type"


class SqlHubObjectsWriter:
    """Collects a batch's object changes in memory and writes each object once, at flush."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self._objects: dict[ObjectKey, tuple[bytes, str, str | None] | None] = {}
        self._changed: set[ObjectKey] = set()
        self._pending: dict[str, PendingPush | None] | None = None
        self._stored_pending: set[str] = set()
        self._gaps: set[ObjectKey] | None = None
        self._new_gaps: dict[ObjectKey, tuple[str, str]] = {}
        self._closed_gaps: set[ObjectKey] = set()
        self._bodies = LedgerBodies(cursor)

    # ---- pushes between Received and Responded (a handful: those a batch boundary split)

    def _pending_pushes(self) -> dict[str, PendingPush | None]:
        if self._pending is None:
            rows = self.cursor.execute("SELECT message_id, push FROM hub_object_pending").fetchall()
            self._pending = {r["message_id"]: PendingPush.from_json(r["push"]) for r in rows}
            self._stored_pending = set(self._pending)
        return self._pending

    def pending(self, message_id: str) -> PendingPush | None:
        return self._pending_pushes().get(message_id)

    def put_pending(self, message_id: str, push: PendingPush) -> None:
        self._pending_pushes()[message_id] = push

    def drop_pending(self, message_id: str) -> None:
        self._pending_pushes()[message_id] = None

    # ---- objects

    def get(self, key: ObjectKey) -> bytes | None:
        if key not in self._objects:
            row = self.cursor.execute(
                f"SELECT document, last_updated, version FROM hub_objects WHERE {_KEY}", _key(key)
            ).fetchone()
            self._objects[key] = (
                None
                if row is None
                else (str(row["document"]).encode(), row["last_updated"], row["version"])
            )
        found = self._objects[key]
        return None if found is None else found[0]

    def put(
        self, key: ObjectKey, document: bytes, last_updated: str, version: str | None = None
    ) -> None:
        self._objects[key] = (document, last_updated, version)
        self._changed.add(key)
        self._close_gap(key)

    def delete(self, key: ObjectKey) -> None:
        self._objects[key] = None
        self._changed.add(key)
        self._close_gap(key)

    def lost(self, key: ObjectKey, message_id: str, body_sha256: str) -> None:
        self._objects[key] = None
        self._changed.add(key)
        self._known_gaps().add(key)
        self._closed_gaps.discard(key)
        self._new_gaps[key] = (message_id, body_sha256)

    def _known_gaps(self) -> set[ObjectKey]:
        if self._gaps is None:
            rows = self.cursor.execute(f"SELECT {_KEY_COLUMNS} FROM hub_object_gaps").fetchall()
            self._gaps = {_key_of(row) for row in rows}
        return self._gaps

    def _close_gap(self, key: ObjectKey) -> None:
        if key in self._known_gaps():
            self._gaps.discard(key)  # type: ignore[union-attr]
            self._new_gaps.pop(key, None)
            self._closed_gaps.add(key)

    # ---- bodies

    def preload_bodies(self, hashes: Iterable[str]) -> None:
        self._bodies.preload(hashes)

    def body(self, sha256: str) -> bytes | None:
        return self._bodies.get(sha256)

    def flush(self) -> None:
        stored = [(k, v) for k in self._changed if (v := self._objects[k]) is not None]
        gone = [k for k in self._changed if self._objects[k] is None]
        self.cursor.executemany(
            f"INSERT INTO hub_objects ({_KEY_COLUMNS}, last_updated, document, version) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT ({_KEY_COLUMNS}) DO UPDATE "
            "SET last_updated = excluded.last_updated, document = excluded.document, "
            "version = excluded.version",
            [
                (*_key(k), stamp, document.decode("utf-8"), version)
                for k, (document, stamp, version) in stored
            ],
        )
        self.cursor.executemany(f"DELETE FROM hub_objects WHERE {_KEY}", [_key(k) for k in gone])
        if self._closed_gaps:
            self.cursor.executemany(
                f"DELETE FROM hub_object_gaps WHERE {_KEY}", [_key(k) for k in self._closed_gaps]
            )
        if self._new_gaps:
            self.cursor.executemany(
                f"INSERT INTO hub_object_gaps ({_KEY_COLUMNS}, message_id, body_sha256) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                f"ON CONFLICT ({_KEY_COLUMNS}) DO UPDATE "
                "SET message_id = excluded.message_id, body_sha256 = excluded.body_sha256",
                [(*_key(k), m, sha) for k, (m, sha) in self._new_gaps.items()],
            )
            log.warning(
                "hub objects: %d object(s) dropped, their last push's body was redacted",
                len(self._new_gaps),
            )
        if self._pending is not None:
            done = [m for m in self._stored_pending if self._pending.get(m) is None]
            self.cursor.executemany(
                "DELETE FROM hub_object_pending WHERE message_id = %s", [(m,) for m in done]
            )
            self.cursor.executemany(
                "INSERT INTO hub_object_pending (message_id, push) VALUES (%s, %s) "
                "ON CONFLICT (message_id) DO UPDATE SET push = excluded.push",
                [(m, p.as_json()) for m, p in self._pending.items() if p is not None],
            )
        self._changed.clear()
        self._new_gaps.clear()
        self._closed_gaps.clear()


class SqlHubObjectsView(SqlTrackedView[HubObjectsWriter]):
    """The objects GET All and the owner's validation GETs answer from, kept by
    `HubObjectsProjection` with its ledger position in the same transaction."""

    name = HubObjectsProjection.name
    tables = ("hub_objects", "hub_object_pending", "hub_object_gaps")
    ddl = (
        "CREATE TABLE IF NOT EXISTS hub_objects ("
        "module TEXT NOT NULL, country_code TEXT NOT NULL, party_id TEXT NOT NULL, "
        "object_id TEXT NOT NULL, token_type TEXT NOT NULL, last_updated TEXT NOT NULL, "
        "document TEXT NOT NULL, version TEXT, "
        f"PRIMARY KEY ({_KEY_COLUMNS}))",
        "CREATE INDEX IF NOT EXISTS hub_objects_by_date ON hub_objects "
        "(module, last_updated, country_code, party_id, object_id, token_type)",
        "CREATE TABLE IF NOT EXISTS hub_object_pending (message_id TEXT PRIMARY KEY, "
        "push TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS hub_object_gaps ("
        "module TEXT NOT NULL, country_code TEXT NOT NULL, party_id TEXT NOT NULL, "
        "object_id TEXT NOT NULL, token_type TEXT NOT NULL, message_id TEXT NOT NULL, "
        f"body_sha256 TEXT NOT NULL, PRIMARY KEY ({_KEY_COLUMNS}))",
    )

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        # A table made before objects had a version gets the column; its rows read as 2.2.1
        # (a rebuild reads each push's version from the ledger).
        try:
            database.query("SELECT version FROM hub_objects WHERE 1 = 0")
        except Exception:
            with database.transaction() as cursor:
                cursor.execute("ALTER TABLE hub_objects ADD COLUMN version TEXT")
        # Rows at position 0 were written beside the ledger by earlier versions of the node:
        # the projection replays every push from event zero, so it starts from empty tables.
        with database.transaction() as cursor:
            for table in self.tables:
                cursor.execute(
                    f"DELETE FROM {table} WHERE (SELECT position FROM projection_tracking "
                    "WHERE name = %s) = 0",
                    (self.name,),
                )

    def writer(self, cursor: Cursor) -> HubObjectsWriter:
        return SqlHubObjectsWriter(cursor)

    def get(self, key: ObjectKey) -> bytes | None:
        found = self.get_versioned(key)
        return None if found is None else found[0]

    def get_versioned(self, key: ObjectKey) -> tuple[bytes, str] | None:
        row = self.database.query_one(
            f"SELECT document, version FROM hub_objects WHERE {_KEY}", _key(key)
        )
        if row is None:
            return None
        return str(row["document"]).encode("utf-8"), row["version"] or OCPI_VERSION

    def gaps(self) -> list[dict[str, str]]:
        """Objects a rebuild could not restore because a push's body was redacted."""
        return self.database.query(
            f"SELECT {_KEY_COLUMNS}, message_id, body_sha256 FROM hub_object_gaps "
            f"ORDER BY {_KEY_COLUMNS}"
        )

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
                f"SELECT document, country_code, party_id, version FROM hub_objects "
                f"WHERE {condition} "
                "ORDER BY last_updated, country_code, party_id, object_id, token_type "
                "LIMIT %s OFFSET %s",
                [*params, limit, offset],
            ).fetchall()
        return Page(
            documents=[str(row["document"]).encode("utf-8") for row in rows],
            total=int(total["n"]) if total else 0,
            owners=[PartyRef(row["country_code"], row["party_id"]) for row in rows],
            versions=[row["version"] or OCPI_VERSION for row in rows],
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
