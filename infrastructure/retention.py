"""Finding expired bodies in SQL, and the background sweep that redacts them."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from application.ledger import MessageLedger
from application.retention import redact_expired_bodies
from infrastructure.sql import Database

log = logging.getLogger(__name__)


class SqlExpiringBodies:
    def __init__(self, database: Database) -> None:
        self.database = database

    def expired(self, before: datetime, limit: int) -> list[tuple[str, int, str]]:
        if self.database.dialect == "postgres":
            cutoff: object = before
        else:  # stored_at is text in the fixed-width form SQLite's strftime writes
            cutoff = before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rows = self.database.query(
            "SELECT sha256, size, stored_at FROM message_bodies "
            "WHERE stored_at < %s AND body IS NOT NULL ORDER BY stored_at LIMIT %s",
            (cutoff, limit),
        )
        return [(r["sha256"], int(r["size"]), str(r["stored_at"])) for r in rows]


class RetentionSweeper:
    """Redacts expired bodies at start and then every `interval` seconds, in its own thread."""

    def __init__(
        self, ledger: MessageLedger, database: Database, days: float, interval: float = 3600.0
    ) -> None:
        self.ledger = ledger
        self.bodies = SqlExpiringBodies(database)
        self.days = days
        self.interval = interval
        self.last_error: str | None = None
        self.redacted = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="body-retention", daemon=True)

    def start(self) -> RetentionSweeper:
        self._thread.start()
        return self

    def sweep(self, now: datetime | None = None) -> int:
        count = redact_expired_bodies(self.ledger, self.bodies, self.days, now or datetime.now(UTC))
        self.redacted += count
        return count

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                count = self.sweep()
                self.last_error = None
                if count:
                    log.info("body retention: redacted %d bodies", count)
            except Exception as error:  # a store outage must not stop future sweeps
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("body retention sweep failed: %s", self.last_error)
            self._stopping.wait(self.interval)

    def close(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)
