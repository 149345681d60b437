"""Reading request bodies from the ledger's body store for the read models that need them."""

from __future__ import annotations

from collections.abc import Iterable

from infrastructure.sql import Cursor


class LedgerBodies:
    """Bodies by SHA-256, read through the projection's cursor, a batch's in one query per 500.
    A redacted (or never stored) body reads as None."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self._bodies: dict[str, bytes | None] = {}

    def preload(self, hashes: Iterable[str]) -> None:
        wanted = sorted(set(hashes) - self._bodies.keys())
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self.cursor.execute(
                "SELECT sha256, body FROM message_bodies WHERE sha256 IN "
                f"({', '.join(['%s'] * len(part))})",
                part,
            ).fetchall()
            found = {row["sha256"]: row["body"] for row in rows}
            for sha256 in part:
                body = found.get(sha256)
                self._bodies[sha256] = None if body is None else bytes(body)

    def get(self, sha256: str) -> bytes | None:
        if sha256 not in self._bodies:
            self.preload([sha256])
        return self._bodies[sha256]
