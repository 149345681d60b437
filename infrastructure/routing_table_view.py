"""The persisted routing table: what the admin API lists and what audits read. No tokens here."""

from __future__ import annotations

import json
from typing import Any

from application.routing_table import ConnectionEntry, RoutingTableProjection, RoutingTableWriter
from domain.connections import Leniency
from domain.values import ConnectionStatus, PartyKey, Role
from infrastructure.sql import Cursor, Database
from infrastructure.tracked_view import SqlTrackedView


class SqlRoutingTableWriter:
    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    def put_connection(self, entry: ConnectionEntry) -> None:
        roles = json.dumps([[k.country_code, k.party_id, str(k.role)] for k in entry.roles])
        endpoints = json.dumps([list(e) for e in entry.endpoints])
        self.cursor.execute(
            "INSERT INTO rt_connections (id, label, initiated_by, status, version, versions_url, "
            "endpoints, roles, unregistered, status_reason, token_a_hash, updated_at, created_at, "
            "leniency, proposed_version, proposed_role, refuse_losing) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version, "
            "versions_url = excluded.versions_url, endpoints = excluded.endpoints, "
            "roles = excluded.roles, unregistered = excluded.unregistered, "
            "status_reason = excluded.status_reason, token_a_hash = excluded.token_a_hash, "
            "updated_at = excluded.updated_at, leniency = excluded.leniency, "
            "proposed_version = excluded.proposed_version, proposed_role = excluded.proposed_role, "
            "refuse_losing = excluded.refuse_losing",
            (
                entry.id,
                entry.label,
                entry.initiated_by,
                str(entry.status),
                entry.version,
                entry.versions_url,
                endpoints,
                roles,
                1 if entry.unregistered else 0,
                entry.status_reason,
                entry.token_a_hash,
                entry.updated_at,
                entry.updated_at,
                str(entry.leniency),
                entry.proposed_version,
                entry.proposed_role,
                json.dumps(list(entry.refuse_losing)),
            ),
        )

    def get_connection(self, connection_id: str) -> ConnectionEntry | None:
        row = self.cursor.execute(
            "SELECT * FROM rt_connections WHERE id = %s", (connection_id,)
        ).fetchone()
        return None if row is None else connection_from_row(row)

    def put_party(
        self, aggregate_id: str, key: PartyKey | None, business_details: dict[str, Any], at: str
    ) -> None:
        details = json.dumps(business_details, sort_keys=True)
        if key is None:
            self.cursor.execute(
                "UPDATE rt_parties SET business_details = %s, updated_at = %s WHERE id = %s",
                (details, at, aggregate_id),
            )
            return
        self.cursor.execute(
            "INSERT INTO rt_parties (id, country_code, party_id, role, business_details, "
            "updated_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
            "business_details = excluded.business_details, updated_at = excluded.updated_at",
            (aggregate_id, key.country_code, key.party_id, str(key.role), details, at),
        )

    def put_route(
        self,
        aggregate_id: str,
        route_key: str,
        kind: str | None,
        status: ConnectionStatus,
        backend_url: str | None,
        at: str,
    ) -> None:
        if kind is None:
            self.cursor.execute(
                "UPDATE rt_routes SET status = %s, updated_at = %s "
                "WHERE party = %s AND route_key = %s",
                (str(status), at, aggregate_id, route_key),
            )
            return
        self.cursor.execute(
            "INSERT INTO rt_routes (party, route_key, kind, status, backend_url, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (party, route_key) DO UPDATE SET "
            "kind = excluded.kind, status = excluded.status, backend_url = excluded.backend_url, "
            "updated_at = excluded.updated_at",
            (aggregate_id, route_key, kind, str(status), backend_url, at),
        )

    def remove_route(self, aggregate_id: str, route_key: str) -> None:
        self.cursor.execute(
            "DELETE FROM rt_routes WHERE party = %s AND route_key = %s", (aggregate_id, route_key)
        )


def connection_from_row(row: dict[str, Any]) -> ConnectionEntry:
    return ConnectionEntry(
        id=row["id"],
        label=row["label"],
        initiated_by=row["initiated_by"],
        status=ConnectionStatus(row["status"]),
        version=row["version"],
        versions_url=row["versions_url"],
        endpoints=tuple(tuple(e) for e in json.loads(row["endpoints"] or "[]")),
        roles=tuple(PartyKey(c, p, Role(r)) for c, p, r in json.loads(row["roles"] or "[]")),
        token_a_hash=row["token_a_hash"],
        unregistered=bool(row["unregistered"]),
        status_reason=row["status_reason"] or "",
        updated_at=row["updated_at"] or "",
        created_at=row["created_at"] or "",
        leniency=Leniency(row.get("leniency") or Leniency.LENIENT),
        proposed_version=row.get("proposed_version"),
        proposed_role=row.get("proposed_role"),
        refuse_losing=tuple(json.loads(row.get("refuse_losing") or "[]")),
    )


class SqlRoutingTableView(SqlTrackedView[RoutingTableWriter]):
    name = RoutingTableProjection.name
    tables = ("rt_routes", "rt_parties", "rt_connections")
    ddl = (
        "CREATE TABLE IF NOT EXISTS rt_connections (id TEXT PRIMARY KEY, label TEXT, "
        "initiated_by TEXT, status TEXT NOT NULL, version TEXT, versions_url TEXT, "
        "endpoints TEXT, roles TEXT, unregistered INTEGER NOT NULL DEFAULT 0, "
        "status_reason TEXT, token_a_hash TEXT, created_at TEXT, updated_at TEXT, leniency TEXT, "
        "proposed_version TEXT, proposed_role TEXT, refuse_losing TEXT)",
        "CREATE TABLE IF NOT EXISTS rt_parties (id TEXT PRIMARY KEY, country_code TEXT NOT NULL, "
        "party_id TEXT NOT NULL, role TEXT NOT NULL, business_details TEXT, updated_at TEXT)",
        "CREATE INDEX IF NOT EXISTS rt_parties_ref ON rt_parties (country_code, party_id)",
        "CREATE TABLE IF NOT EXISTS rt_routes (party TEXT NOT NULL, route_key TEXT NOT NULL, "
        "kind TEXT NOT NULL, status TEXT NOT NULL, backend_url TEXT, updated_at TEXT, "
        "PRIMARY KEY (party, route_key))",
    )

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        # Tables made before connections had a leniency (NULL reads as lenient), a proposed
        # version (NULL: none proposed) or a translation policy (NULL: refuses nothing) get the
        # column.
        for column in ("leniency", "proposed_version", "proposed_role", "refuse_losing"):
            try:
                database.query(f"SELECT {column} FROM rt_connections WHERE 1 = 0")
            except Exception:
                with database.transaction() as cursor:
                    cursor.execute(f"ALTER TABLE rt_connections ADD COLUMN {column} TEXT")

    def writer(self, cursor: Cursor) -> RoutingTableWriter:
        return SqlRoutingTableWriter(cursor)

    # ---- queries (admin API) -----------------------------------------------------------------

    def routes(self) -> list[dict[str, Any]]:
        """One row per (party, route), parties without a route included (route fields null)."""
        return self.database.query(
            "SELECT p.country_code, p.party_id, p.role, p.business_details, r.route_key, r.kind, "
            "r.status, r.backend_url, r.updated_at FROM rt_parties p "
            "LEFT JOIN rt_routes r ON r.party = p.id "
            "ORDER BY p.country_code, p.party_id, p.role, r.route_key"
        )

    def connections(self) -> list[ConnectionEntry]:
        rows = self.database.query("SELECT * FROM rt_connections ORDER BY created_at, id")
        return [connection_from_row(r) for r in rows]

    def parties_on(self, connection_id: str) -> list[dict[str, Any]]:
        """The parties routed over one connection, with the status of that route."""
        return self.database.query(
            "SELECT p.country_code, p.party_id, p.role, r.kind, r.status, r.updated_at "
            "FROM rt_routes r JOIN rt_parties p ON p.id = r.party WHERE r.route_key = %s "
            "ORDER BY p.country_code, p.party_id, p.role",
            (connection_id,),
        )

    def connection(self, connection_id: str) -> ConnectionEntry | None:
        row = self.database.query_one(
            "SELECT * FROM rt_connections WHERE id = %s", (connection_id,)
        )
        return None if row is None else connection_from_row(row)
