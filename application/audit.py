"""The audit read model: every routed message, findable by who, what and when.

`AuditProjection` turns RoutedMessage events into one summary row per message plus search keys
(party, party pair, connection, object id, request id, correlation id, status code), each key
stamped with the message's receive time so every search reads newest first from one index.
Object ids come from the URL (`parse_operation`) and, for requests whose URL names none (CDR
POST, commands), from the request body while the body is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from application.projection import Projection
from domain.errors import DomainError
from domain.messages import RoutedMessage
from domain.operations import Operation, parse_operation

# "unknown": received (and maybe forwarded) but no outcome recorded within the forward timeout;
# the view derives it from "pending" and the age of the message.
OUTCOMES = ("pending", "success", "error", "refused", "unknown")
MAX_LIMIT = 1000


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(value: int) -> str:
    """RFC 3339 UTC with milliseconds, as OCPI writes timestamps."""
    moment = EPOCH + timedelta(microseconds=value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def is_success(http_status: int | None, ocpi_status: int | None) -> bool:
    if http_status is not None and http_status >= 400:
        return False
    return ocpi_status is None or 1000 <= ocpi_status < 2000


class AuditWriter(Protocol):
    def message(self, message_id: str) -> dict[str, Any] | None: ...
    def put_message(self, row: dict[str, Any]) -> None: ...
    def add_keys(self, message_id: str, received_us: int, keys: Iterable[str]) -> None: ...
    def body(self, sha256: str) -> bytes | None: ...
    def preload_bodies(self, hashes: Iterable[str]) -> None: ...


def party_keys(a: str | None, b: str | None) -> list[str]:
    keys = [f"p:{p}" for p in (a, b) if p]
    if a and b:
        keys += [f"pc:{a}|{b}", f"pc:{b}|{a}"]
    return keys


_BODY_METHODS = ("POST", "PUT", "PATCH")
"""Requests whose body may name the object (a token uid, a location id) the message is about."""
_CALLBACK_OF = re.compile(r"^callback \S+ of (\S+) back to ")
"""The routing reason of a relayed callback (application.routing.service `_callback`): names
the correlation id of the command whose response_url it follows."""

_BODY_ID_FIELDS = (
    ("id",),
    ("location_id",),
    ("session_id",),
    ("reservation_id",),
    ("authorization_reference",),
    ("cdr_token", "uid"),
    ("token", "uid"),
    ("cdr_location", "id"),
)


def body_object_ids(data: bytes | None) -> list[str]:
    """Ids a request body names: the CDR's id, its session, token and location, a command's
    location, session or token."""
    if not data:
        return []
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return []
    found: list[str] = []
    for path in _BODY_ID_FIELDS:
        value: Any = document
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if isinstance(value, str) and 0 < len(value) <= 64:
            found.append(value)
    return found


def operation_of(event: Any) -> Operation | None:
    if not event.module or not event.interface:
        return None
    # A path received without its leading '/' was routed as if it had one (leniency).
    path = event.path if event.path.startswith("/") or not event.path else f"/{event.path}"
    try:
        return parse_operation(event.module, event.interface, event.method, path, event.query)
    except (DomainError, ValueError, KeyError):
        return None


def path_object_ids(operation: Operation | None) -> list[str]:
    if operation is None:
        return []
    values = (
        operation.location_id,
        operation.session_id,
        operation.cdr_id,
        operation.tariff_id,
        operation.token_uid,
        operation.command,
    )
    return [str(v) for v in values if v]


class AuditProjection(Projection[AuditWriter]):
    name = "audit"

    def prepare(self, events: Sequence[Any], writer: AuditWriter) -> None:
        writer.preload_bodies(
            event.body_sha256
            for event in events
            if isinstance(event, RoutedMessage.Received)
            and event.body_sha256
            and event.method in _BODY_METHODS
        )

    def process(self, event: Any, writer: AuditWriter) -> None:
        if not isinstance(event, RoutedMessage.Event):
            return
        message_id = str(event.originator_id)
        if isinstance(event, RoutedMessage.Received):
            self._received(event, message_id, writer)
            return
        row = writer.message(message_id)
        if row is None:  # the Received event of this message is not in the ledger
            return
        row["updated_us"] = epoch_us(event.timestamp)
        keys: list[str] = []
        if isinstance(event, RoutedMessage.Routed):
            row["classification"] = event.classification
            row["reason"] = event.reason
            row["targets"] = json.dumps(list(event.targets))
            callback_of = _CALLBACK_OF.match(event.reason or "")
            if callback_of:
                # Found with the command it answers: one correlation id, one evidence bundle.
                keys.append(f"x:{callback_of.group(1)}")
        elif isinstance(event, RoutedMessage.Forwarded):
            row["legs"] += 1
            keys += party_keys(row["from_party"], event.target_party)
            keys += [f"r:{event.request_id}"]
            if event.target_connection_id:
                keys.append(f"c:{event.target_connection_id}")
        elif isinstance(event, RoutedMessage.Answered):
            if not is_success(event.http_status, event.ocpi_status):
                row["legs_failed"] += 1
            if event.ocpi_status is not None:
                keys.append(f"s:{event.ocpi_status}")
        elif isinstance(event, RoutedMessage.Failed):
            row["legs_failed"] += 1
            keys.append(f"s:{event.status_code}")
        elif isinstance(event, RoutedMessage.Refused):
            row.update(outcome="refused", http_status=event.http_status)
            row["ocpi_status"] = event.ocpi_status
            row["reason"] = row["reason"] or event.reason
            keys.append(f"s:{event.ocpi_status}")
        elif isinstance(event, RoutedMessage.Responded):
            success = is_success(event.http_status, event.ocpi_status)
            refused = row["outcome"] == "refused"  # the hub's refusal stays one, not an "error"
            row.update(
                outcome="refused" if refused else "success" if success else "error",
                http_status=event.http_status,
                ocpi_status=event.ocpi_status,
                latency_ms=event.latency_ms,
                response_bytes=event.body_size,
            )
            if event.ocpi_status is not None:
                keys.append(f"s:{event.ocpi_status}")
        writer.put_message(row)
        if keys:
            writer.add_keys(message_id, row["received_us"], keys)

    def _received(self, event: Any, message_id: str, writer: AuditWriter) -> None:
        received_us = epoch_us(event.timestamp)
        operation = operation_of(event)
        object_ids = path_object_ids(operation)
        if event.body_sha256 and event.method in _BODY_METHODS:
            object_ids += body_object_ids(writer.body(event.body_sha256))
        object_ids = list(dict.fromkeys(object_ids))
        writer.put_message(
            {
                "id": message_id,
                "received_us": received_us,
                "updated_us": received_us,
                "sender_scope": event.sender_scope,
                "connection_id": event.connection_id,
                "from_party": event.from_party,
                "to_party": event.to_party,
                "module": event.module,
                "interface": event.interface,
                "method": event.method,
                "path": event.path,
                "request_id": event.request_id,
                "correlation_id": event.correlation_id,
                "object_id": object_ids[0] if object_ids else None,
                "attempt": event.attempt,
                "retry_of": event.retry_of,
                "classification": None,
                "reason": None,
                "targets": "[]",
                "outcome": "pending",
                "http_status": None,
                "ocpi_status": None,
                "latency_ms": None,
                "legs": 0,
                "legs_failed": 0,
                "request_bytes": event.body_size,
                "response_bytes": 0,
            }
        )
        keys = party_keys(event.from_party, event.to_party)
        keys += [f"r:{event.request_id}", f"x:{event.correlation_id}"]
        keys += [f"o:{value}" for value in object_ids]
        if event.connection_id:
            keys.append(f"c:{event.connection_id}")
        writer.add_keys(message_id, received_us, keys)


# ---- queries ---------------------------------------------------------------------------------


class InvalidQuery(ValueError):
    """A query parameter that cannot be used; the message names it."""


@dataclass(frozen=True)
class MessageQuery:
    party: str | None = None
    counterpart: str | None = None
    direction: str | None = None  # sent | received, relative to `party`
    connection: str | None = None
    module: str | None = None
    object_id: str | None = None
    request_id: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None
    status: int | None = None
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise InvalidQuery(f"offset must not be negative, got {self.offset}")
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise InvalidQuery(f"outcome must be one of {', '.join(OUTCOMES)}")
        if self.direction is not None:
            if self.direction not in ("sent", "received"):
                raise InvalidQuery("direction must be sent or received")
            if self.party is None:
                raise InvalidQuery("direction needs party")
        if self.since and self.until and self.since >= self.until:
            raise InvalidQuery("since must be before until")

    def keys(self) -> list[str]:
        """Search keys, most selective first: the first drives the index scan."""
        keys = []
        if self.request_id:
            keys.append(f"r:{self.request_id}")
        if self.object_id:
            keys.append(f"o:{self.object_id}")
        if self.correlation_id:
            keys.append(f"x:{self.correlation_id}")
        if self.party and self.counterpart:
            keys.append(f"pc:{self.party}|{self.counterpart}")
        elif self.party or self.counterpart:
            keys.append(f"p:{self.party or self.counterpart}")
        if self.connection:
            keys.append(f"c:{self.connection}")
        if self.status is not None:
            keys.append(f"s:{self.status}")
        return keys


class AuditQueries(Protocol):
    def find(self, query: MessageQuery, extra: int = 0) -> list[dict[str, Any]]: ...
    def summary(self, message_id: str) -> dict[str, Any] | None: ...
    def message_ids(self, query: MessageQuery, cap: int) -> list[str]: ...
    def count(self, query: MessageQuery, cap: int = ...) -> dict[str, Any]: ...
