"""Body retention: a body kept past its retention period is reduced to its hash, and the
reduction is itself recorded, so an audit can tell a redacted body from a removed one."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class BodyRedaction(Aggregate):
    """One redaction of one body. A body seen again later is stored again, and may be redacted
    again, so redactions get ids of their own rather than one per body hash."""

    class BodyRedacted(Aggregate.Created):
        body_sha256: str
        size: int
        stored_at: str
        retention_days: float

    @event(BodyRedacted)
    def __init__(self, body_sha256: str, size: int, stored_at: str, retention_days: float) -> None:
        self.body_sha256 = body_sha256
        self.size = size
        self.stored_at = stored_at
        self.retention_days = retention_days
