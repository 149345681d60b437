"""Re-driving a recorded message: the operator sends a request the ledger holds once more.

For the pushes and commands a receiver lost or refused while it was down: the same method, path,
query, routing headers and body bytes as recorded, a new X-Request-ID and the original
X-Correlation-ID, routed by today's routing table through the normal path (recorded before it is
forwarded, every check and rule as for the sender's own requests). The new message names the
one it repeats (`retry_of`), so the audit trail shows both. Nothing is queued or sent by itself:
each re-drive is one explicit operator action.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from application.errors import ApplicationError
from application.records import LedgerRecords, decode, event_name
from application.routing import Answer, InboundRequest, RoutingService, ocpi_status_of
from application.routing_table import InMemoryRoutingTable
from domain import headers as h
from domain.message_steps import step_events
from domain.messages import message_id as message_id_of
from domain.values import ConnectionStatus, Way

REDRIVABLE_METHODS = ("PUT", "PATCH", "POST", "DELETE")


class RecordedMessageNotFoundError(ApplicationError):
    pass


class RedriveRefusedError(ApplicationError):
    """The message cannot be sent again; the message says why."""


@dataclass(frozen=True)
class Redriven:
    repeats: str
    message_id: str
    request_id: str
    correlation_id: str
    answer: Answer
    """What the routing answered, as the sender would have got it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "repeats": self.repeats,
            "message_id": self.message_id,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "answer": {
                "http_status": self.answer.http_status,
                "ocpi_status": ocpi_status_of(self.answer.body),
                "body": self.answer.body.decode("utf-8", "replace"),
            },
        }


@dataclass(frozen=True)
class RedriveOutcome:
    """One message of a re-drive by search: sent again, refused (with the reason), or, in a
    dry run, neither (`redriven` and `refused` both None: it would be sent)."""

    repeats: str
    redriven: Redriven | None = None
    refused: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.redriven is not None:
            return {"result": "redriven", **self.redriven.as_dict()}
        if self.refused is not None:
            return {"repeats": self.repeats, "result": "refused", "reason": self.refused}
        return {"repeats": self.repeats, "result": "would_redrive"}


async def redrive(
    service: RoutingService,
    records: LedgerRecords,
    mapper: Mapper[UUID],
    table: InMemoryRoutingTable,
    message_id: str,
) -> Redriven:
    return await _send(service, redrive_request(records, mapper, table, message_id))


async def redrive_all(
    service: RoutingService,
    records: LedgerRecords,
    mapper: Mapper[UUID],
    table: InMemoryRoutingTable,
    message_ids: Sequence[str],
    dry_run: bool = False,
) -> list[RedriveOutcome]:
    """Re-drive each message in the order given (oldest first keeps a receiver's last state
    the last one sent); one that cannot be re-driven is reported and the rest go on."""
    outcomes: list[RedriveOutcome] = []
    for message_id in message_ids:
        try:
            request = redrive_request(records, mapper, table, message_id)
        except (RedriveRefusedError, RecordedMessageNotFoundError) as error:
            outcomes.append(RedriveOutcome(message_id, refused=str(error)))
            continue
        if dry_run:
            outcomes.append(RedriveOutcome(message_id))
            continue
        outcomes.append(RedriveOutcome(message_id, redriven=await _send(service, request)))
    return outcomes


async def _send(service: RoutingService, request: InboundRequest) -> Redriven:
    answer = await service.handle(request)
    request_id = request.headers[h.X_REQUEST_ID]
    return Redriven(
        repeats=request.repeats or "",
        message_id=str(message_id_of(request.connection.id, request_id)),
        request_id=request_id,
        correlation_id=request.headers[h.X_CORRELATION_ID],
        answer=answer,
    )


def redrive_request(
    records: LedgerRecords,
    mapper: Mapper[UUID],
    table: InMemoryRoutingTable,
    message_id: str,
) -> InboundRequest:
    """The recorded request of `message_id`, ready to go through routing again."""
    stored = records.records_of(message_id)
    if not stored:
        raise RecordedMessageNotFoundError(f"no message {message_id} in the ledger")
    received: Any = step_events(decode(mapper, stored[0]))[0]
    if event_name(received) != "Received":
        raise RedriveRefusedError(f"message {message_id} has no recorded request")
    if received.method not in REDRIVABLE_METHODS:
        raise RedriveRefusedError(
            f"only pushes and commands ({', '.join(REDRIVABLE_METHODS)}) are re-driven; "
            f"this is a {received.method}, which its sender can simply ask again"
        )
    if received.connection_id == Way.LOCAL:
        raise RedriveRefusedError(
            "this message came from a hosted party's backend: re-send it from that backend"
        )
    connection = table.connection(received.connection_id or "")
    if connection is None:
        raise RedriveRefusedError(
            f"the connection {received.connection_id} that sent it is no longer registered"
        )
    if connection.status is ConnectionStatus.SUSPENDED:
        raise RedriveRefusedError(
            f"the connection {connection.id} that sent it is suspended; reactivate it first"
        )
    body = b""
    if received.body_sha256:
        stored_body = records.bodies([received.body_sha256]).get(received.body_sha256)
        if stored_body is None or stored_body.data is None:
            raise RedriveRefusedError(
                f"its body {received.body_sha256} is no longer stored (body retention keeps "
                "only its hash): it cannot be sent again as it was"
            )
        body = bytes(stored_body.data)
    # Stored sanitised already; again, as the timeline does, so no secret can ride along.
    headers = h.sanitize_for_ledger(received.headers)
    headers[h.X_REQUEST_ID] = str(uuid.uuid4())
    headers[h.X_CORRELATION_ID] = received.correlation_id
    return InboundRequest(
        connection=connection,
        module=received.module or "",
        interface=received.interface or "",
        method=received.method,
        path=received.path,
        query=received.query,
        headers=headers,
        body=body,
        repeats=message_id,
    )
