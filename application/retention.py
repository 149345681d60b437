"""Body retention: bodies older than the retention period are reduced to their hash.

Each reduction is a BodyRedacted event saved in the same transaction that empties the body, so
the ledger says which bodies were redacted and when, and the chain (which covers body hashes,
not bytes) still verifies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from application.ledger import MessageLedger
from domain.retention import BodyRedaction


class ExpiringBodies(Protocol):
    def expired(self, before: datetime, limit: int) -> list[tuple[str, int, str]]:
        """(sha256, size, stored_at) of kept bodies stored before `before`, oldest first."""


def redact_expired_bodies(
    ledger: MessageLedger,
    bodies: ExpiringBodies,
    retention_days: float,
    now: datetime,
    batch_size: int = 500,
) -> int:
    """Redact every body stored more than `retention_days` before `now`; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    total = 0
    while True:
        expired = bodies.expired(cutoff, batch_size)
        if not expired:
            return total
        redactions = [
            BodyRedaction(
                body_sha256=sha256, size=size, stored_at=stored_at, retention_days=retention_days
            )
            for sha256, size, stored_at in expired
        ]
        ledger.save(*redactions, redact_bodies=[sha256 for sha256, _, _ in expired])
        total += len(expired)
