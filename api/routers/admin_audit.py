"""Admin API of the audit read models: messages, timelines, evidence, traffic, the routing table
at any instant, ledger verification and projection rebuilds. Thin: parse, call, answer."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.dependencies import require_admin
from api.envelope import ocpi_response, ocpi_timestamp
from api.errors import OcpiError
from api.hub_objects_setup import HUB_OBJECTS
from api.node import Node
from api.routers.routing import ROUTING_SERVICE
from application.audit import InvalidQuery, MessageQuery
from application.evidence import MAX_MESSAGES, build_bundle
from application.redrive import (
    RecordedMessageNotFoundError,
    Redriven,
    RedriveOutcome,
    RedriveRefusedError,
    redrive,
    redrive_all,
)
from application.time_travel import describe, routing_table_as_of
from application.timeline import message_timeline
from application.traffic import TrafficQuery
from domain.errors import DomainError
from domain.status_codes import ClientError
from domain.values import InterfaceRole, ModuleId, PartyRef, parse_module_id
from infrastructure.ledger_chain import verify_ledger
from infrastructure.rebuildable import REBUILDABLE

router = APIRouter(prefix="/admin", tags=["audit"])


Admin = Annotated[Node, Depends(require_admin)]


def bad(message: str) -> OcpiError:
    return OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, message, http_status=400)


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise bad(
            f"unknown query parameter(s): {', '.join(unknown)}; use {', '.join(sorted(allowed))}"
        )
    return dict(request.query_params)


def parse_instant(name: str, value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise bad(f"{name} must be an ISO-8601 timestamp, e.g. 2024-03-01T14:03:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_int(name: str, value: str | None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise bad(f"{name} must be an integer, got {value!r}") from None


def _party(value: str | None) -> str | None:
    return value.strip().upper() if value else None


MESSAGE_PARAMS = {
    "party", "counterpart", "direction", "connection", "module", "object_id", "request_id",
    "correlation_id", "since", "until", "status", "outcome", "limit", "offset",
}  # fmt: skip


def message_query(params: dict[str, str]) -> MessageQuery:
    status, outcome = params.get("status"), params.get("outcome")
    if status and not status.lstrip("-").isdigit():
        # `status` also takes an outcome word: status=refused.
        outcome, status = outcome or status, None
    try:
        return MessageQuery(
            party=_party(params.get("party")),
            counterpart=_party(params.get("counterpart")),
            direction=params.get("direction") or None,
            connection=params.get("connection") or None,
            module=params.get("module") or None,
            object_id=params.get("object_id") or None,
            request_id=params.get("request_id") or None,
            correlation_id=params.get("correlation_id") or None,
            since=parse_instant("since", params.get("since")),
            until=parse_instant("until", params.get("until")),
            status=parse_int("status", status),
            outcome=outcome or None,
            limit=parse_int("limit", params.get("limit"), 50) or 0,
            offset=parse_int("offset", params.get("offset"), 0) or 0,
        )
    except InvalidQuery as error:
        raise bad(str(error)) from None


@router.get("/messages")
def list_messages(request: Request, node: Admin) -> Response:
    query = message_query(_params(request, MESSAGE_PARAMS))
    view = node.services["audit_view"]
    # One more than asked says whether another page follows (limit may be MAX_LIMIT itself).
    rows = view.find(query, extra=1)
    return ocpi_response(
        {
            "messages": rows[: query.limit],
            "limit": query.limit,
            "offset": query.offset,
            "has_more": len(rows) > query.limit,
        }
    )


@router.get("/messages/{message_id}")
def get_message(message_id: str, node: Admin) -> Response:
    try:
        message_id = str(UUID(message_id))
    except ValueError:
        raise bad(f"message id must be a UUID, got {message_id!r}") from None
    timeline = message_timeline(
        node.services["ledger_archive"], node.store.ledger.mapper, message_id
    )
    if timeline is None:
        raise OcpiError(ClientError.GENERIC, f"no message {message_id}", http_status=404)
    timeline["summary"] = node.services["audit_view"].summary(message_id)
    return ocpi_response(timeline)


@router.post("/messages/{message_id}/redrive")
async def redrive_message(message_id: str, node: Admin) -> Response:
    """Send a recorded push or command once more, as a new message that names this one."""
    try:
        message_id = str(UUID(message_id))
    except ValueError:
        raise bad(f"message id must be a UUID, got {message_id!r}") from None
    try:
        done = await redrive_one(node, message_id)
    except RecordedMessageNotFoundError as error:
        raise OcpiError(ClientError.GENERIC, str(error), http_status=404) from None
    except RedriveRefusedError as error:
        raise OcpiError(ClientError.GENERIC, f"not re-driven: {error}", http_status=409) from None
    return ocpi_response(done.as_dict())


async def redrive_one(node: Node, message_id: str) -> Redriven:
    return await redrive(
        node.services[ROUTING_SERVICE],
        node.services["ledger_archive"],
        node.store.ledger.mapper,
        node.routing_table,
        message_id,
    )


async def redrive_many(
    node: Node, message_ids: list[str], dry_run: bool = False
) -> list[RedriveOutcome]:
    return await redrive_all(
        node.services[ROUTING_SERVICE],
        node.services["ledger_archive"],
        node.store.ledger.mapper,
        node.routing_table,
        message_ids,
        dry_run=dry_run,
    )


REDRIVE_FILTERS = MESSAGE_PARAMS - {"request_id", "offset"}


@router.post("/messages/redrive")
async def redrive_messages(request: Request, node: Admin) -> Response:
    """Re-drive what an audit search finds (the filters of GET /admin/messages), oldest first,
    at most `limit`; `dry_run=true` lists what would be sent. A search must be narrowed by at
    least one filter: re-sending everything is never one click away."""
    params = _params(request, REDRIVE_FILTERS | {"dry_run"})
    if not any(params.get(name) for name in REDRIVE_FILTERS - {"limit"}):
        raise bad(f"narrow the search with at least one of {', '.join(sorted(REDRIVE_FILTERS))}")
    dry_run = (params.get("dry_run") or "").lower() in ("1", "true", "yes")
    query = message_query(params)
    ids = node.services["audit_view"].message_ids(query, query.limit)
    outcomes = await redrive_many(node, list(reversed(ids)), dry_run=dry_run)
    return ocpi_response(
        {
            "dry_run": dry_run,
            "matched": len(ids),
            "results": [outcome.as_dict() for outcome in outcomes],
        }
    )


@router.get("/evidence")
def evidence(request: Request, node: Admin) -> Response:
    params = _params(request, {"correlation_id", "object_id"})
    return evidence_download(node, {k: v for k, v in params.items() if v})


def evidence_download(node: Node, subject: dict[str, str]) -> Response:
    """The evidence bundle of one correlation id or object id, as a JSON file to save."""
    if len(subject) != 1 or set(subject) - {"correlation_id", "object_id"}:
        raise bad("give exactly one of correlation_id or object_id")
    query = MessageQuery(**subject, limit=1)  # type: ignore[arg-type]
    ids = node.services["audit_view"].message_ids(query, MAX_MESSAGES)
    if not ids:
        raise OcpiError(ClientError.GENERIC, f"no messages for {subject}", http_status=404)
    bundle = build_bundle(
        node.services["ledger_archive"],
        reversed(ids),
        subject=subject,
        generated_at=ocpi_timestamp(),
        node={"party": str(node.settings.party), "base_url": node.settings.base_url},
    )
    bundle["truncated"] = len(ids) >= MAX_MESSAGES
    name = "-".join(f"{k}-{v}" for k, v in subject.items())[:80]
    return Response(
        json.dumps(bundle, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="evidence-{name}.json"'},
    )


@router.get("/traffic")
def traffic(request: Request, node: Admin) -> Response:
    params = _params(request, {"party", "bucket", "since", "until"})
    try:
        query = TrafficQuery(
            party=_party(params.get("party")),
            granularity=params.get("bucket") or "hour",
            since=parse_instant("since", params.get("since")),
            until=parse_instant("until", params.get("until")),
        )
    except InvalidQuery as error:
        raise bad(str(error)) from None
    return ocpi_response(node.services["traffic_view"].report(query))


@router.get("/routing-table")
def routing_table(request: Request, node: Admin) -> Response:
    params = _params(request, {"as_of"})
    instant = parse_instant("as_of", params.get("as_of"))
    if instant is None:
        node.runners["routing_table_memory"].wait(
            node.store.registry.recorder.max_notification_id() or 0
        )
        return ocpi_response(describe(node.routing_table, datetime.now(UTC)))
    return ocpi_response(describe(routing_table_as_of(node.store.registry, instant), instant))


@router.get("/routing-table/explain")
def explain_route(request: Request, node: Admin) -> Response:
    """A dry run: where a message to a party would go now and why (`to`, `module`,
    `interface`), or who a broadcast push from a party would reach (`from`, `module`)."""
    params = _params(request, {"to", "from", "module", "interface"})
    broadcast = not params.get("to") and bool(params.get("from"))
    wanted = {"from", "module"} if broadcast else {"to", "module", "interface"}
    missing = sorted(wanted - {k for k, v in params.items() if v})
    if missing:
        raise bad(
            f"give {', '.join(missing)} (to=CC*PID, module, interface=sender|receiver; "
            "or from=CC*PID and module for a broadcast)"
        )
    try:
        party = PartyRef.parse(params["from"] if broadcast else params["to"])
        module = parse_module_id(params["module"])
        interface = None if broadcast else InterfaceRole(params["interface"].upper())
    except (DomainError, ValueError) as error:
        raise bad(str(error)) from None
    node.runners["routing_table_memory"].wait(
        node.store.registry.recorder.max_notification_id() or 0
    )
    service = node.services[ROUTING_SERVICE]
    if interface is None:
        if not isinstance(module, ModuleId):
            raise bad(f"custom module {module} is never broadcast")
        return ocpi_response(dataclasses.asdict(service.explain_broadcast(party, module)))
    return ocpi_response(dataclasses.asdict(service.explain_route(party, module, interface)))


@router.post("/ledger/verify")
def verify(node: Admin) -> Response:
    report = verify_ledger(node.services["ledger_archive"])
    return ocpi_response(report.as_dict())


@router.get("/hub-objects/gaps")
def hub_object_gaps(node: Admin) -> Response:
    """Objects a rebuild of the hub object store could not restore: the body of a push they
    need was redacted by retention (see application/hub_objects.py). Empty when complete."""
    return ocpi_response({"gaps": node.services[HUB_OBJECTS].view.gaps()})


@router.post("/projections/{name}/rebuild")
def rebuild(name: str, node: Admin) -> Response:
    if name not in REBUILDABLE:
        raise bad(f"projection must be one of {', '.join(REBUILDABLE)}")
    runner = node.runners[name]
    runner.view.reset()
    runner.wake()
    return ocpi_response(progress_of(node, name))


@router.get("/projections/{name}")
def projection_progress(name: str, node: Admin) -> Response:
    # node.runners also holds background loops (health checks, sweeps): only views have progress.
    if not hasattr(node.runners.get(name), "view"):
        raise OcpiError(ClientError.GENERIC, f"no projection {name}", http_status=404)
    return ocpi_response(progress_of(node, name))


def progress_of(node: Node, name: str) -> dict[str, Any]:
    runner = node.runners[name]
    return {
        "name": name,
        "position": runner.view.position(),
        "head": runner.source.recorder.max_notification_id() or 0,
        "error": runner.last_error,
    }
