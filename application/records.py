"""Reading the ledger as stored: records (exact event bytes), their chain links and bodies.

The port the timeline and evidence read through; `infrastructure/ledger_chain.LedgerArchive`
implements it in SQL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.chain import ChainLink


class Record(Protocol):
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


class Body(Protocol):
    sha256: str
    content_type: str
    size: int
    data: bytes | None
    stored_at: str


class LedgerRecords(Protocol):
    def records_of(self, originator_id: str) -> list[Any]: ...
    def links_of(self, originator_id: str) -> list[ChainLink]: ...
    def bodies(self, hashes: Iterable[str]) -> dict[str, Any]: ...
    def redaction_records(self, hashes: Iterable[str]) -> list[Any]: ...
    def head(self) -> ChainLink | None: ...


def decode(mapper: Mapper[UUID], record: Record) -> Any:
    return mapper.to_domain_event(
        StoredEvent(
            originator_id=UUID(record.originator_id),
            originator_version=record.originator_version,
            topic=record.topic,
            state=record.state,
        )
    )


def event_name(event: Any) -> str:
    return type(event).__qualname__.rsplit(".", 1)[-1]


def event_fields(event: Any) -> dict[str, Any]:
    """An event's fields as JSON values (ids and timestamps as strings)."""
    return {
        name: json_value(value)
        for name, value in vars(event).items()
        if name not in ("originator_id", "originator_version", "timestamp")
    }


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def body_view(body: Body | None, sha256: str, *, include_data: bool = True) -> dict[str, Any]:
    """A body for people: text if it is UTF-8, base64 otherwise; redacted bodies say so."""
    if body is None:
        return {"sha256": sha256, "status": "missing"}
    view: dict[str, Any] = {
        "sha256": sha256,
        "content_type": body.content_type,
        "size": body.size,
        "status": "redacted" if body.data is None else "kept",
    }
    if include_data and body.data is not None:
        try:
            view["text"] = body.data.decode("utf-8")
        except UnicodeDecodeError:
            view["base64"] = base64.b64encode(body.data).decode()
    return view
