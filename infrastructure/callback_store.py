"""The durable mapping of hub links (response_url callbacks and CDR locations) in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.callbacks import HubLink
from domain.values import PartyRef
from infrastructure.sql import Database

_DDL = (
    "CREATE TABLE IF NOT EXISTS hub_links ("
    "id TEXT PRIMARY KEY, kind TEXT NOT NULL, module TEXT NOT NULL, original_url TEXT NOT NULL, "
    "requester_connection_id TEXT NOT NULL, requester_party TEXT NOT NULL, "
    "receiver_party TEXT NOT NULL, correlation_id TEXT NOT NULL, created_at TEXT NOT NULL, "
    "expires_at TEXT)"
)


class SqlLinkStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        with database.transaction() as cursor:
            cursor.execute(_DDL)

    def put(self, link: HubLink) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO hub_links (id, kind, module, original_url, requester_connection_id, "
                "requester_party, receiver_party, correlation_id, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    link.id,
                    link.kind,
                    link.module,
                    link.original_url,
                    link.requester_connection_id,
                    str(link.requester_party),
                    str(link.receiver_party),
                    link.correlation_id,
                    link.created_at.isoformat(),
                    link.expires_at.isoformat() if link.expires_at else None,
                ),
            )

    def get(self, link_id: str) -> HubLink | None:
        row = self.database.query_one("SELECT * FROM hub_links WHERE id = %s", (link_id,))
        return None if row is None else _link(row)

    def extend(self, link_id: str, expires_at: datetime) -> None:
        # ISO text of one timezone sorts like time, so "later" is a string comparison here.
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE hub_links SET expires_at = %s WHERE id = %s AND expires_at < %s",
                (expires_at.isoformat(), link_id, expires_at.isoformat()),
            )

    def delete_expired(self, before: datetime) -> int:
        """Forget callback links that expired before `before`; CDR locations never expire."""
        with self.database.transaction() as cursor:
            return cursor.execute(
                "DELETE FROM hub_links WHERE expires_at IS NOT NULL AND expires_at < %s",
                (before.isoformat(),),
            ).rowcount


def _link(row: dict[str, Any]) -> HubLink:
    expires = row["expires_at"]
    return HubLink(
        id=row["id"],
        kind=row["kind"],
        module=row["module"],
        original_url=row["original_url"],
        requester_connection_id=row["requester_connection_id"],
        requester_party=PartyRef.parse(row["requester_party"]),
        receiver_party=PartyRef.parse(row["receiver_party"]),
        correlation_id=row["correlation_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=datetime.fromisoformat(expires) if expires else None,
    )
