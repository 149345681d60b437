"""Admin API of the audit read models: messages, timelines, evidence, traffic, the routing table
at any instant, ledger verification and projection rebuilds. Thin: parse, call, answer.

Every endpoint is declared, so OpenAPI (/admin/openapi.json) describes it and FastAPI parses it:
- the router comes from `admin_router()`: the admin token (bearer security scheme) is required
  by every operation, and validation errors answer in the admin API's codes;
- query parameters are one model of api/admin_queries.py, taken as
  `filters: Annotated[SomeFilters, Query()]` (`extra="forbid"`: unknown names are a 400);
- a JSON body is a model of api/admin_models.py (`extra="forbid"`) as a plain parameter;
- the node comes from `node: AdminNode`; the answer is `ocpi_response(...)` with
  `response_model=OcpiAnswer` so the envelope is documented.
A new endpoint follows the same pattern, e.g.:

    @router.get("/things", response_model=OcpiAnswer)
    def list_things(filters: Annotated[ThingFilters, Query()], node: AdminNode) -> Response:
        return ocpi_response(node.services.things.find(filters.party))
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from fastapi.responses import Response
from pydantic import ValidationError

from api.admin_queries import (
    EvidenceSubject,
    MessageFilters,
    RedriveFilters,
    RouteQuestion,
    RoutingTableAt,
    SearchFilters,
    TrafficFilters,
)
from api.admin_router import OcpiAnswer, admin_router, invalid
from api.dependencies import AdminNode
from api.envelope import ocpi_response, ocpi_timestamp
from api.errors import OcpiError
from api.node import Node
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
from application.time_travel import describe, replay_registry
from application.timeline import message_timeline
from application.traffic import TrafficQuery
from domain.errors import DomainError
from domain.status_codes import ClientError
from domain.values import InterfaceRole, ModuleId, PartyRef, parse_module_id
from infrastructure.rebuildable import REBUILDABLE

router = admin_router(tags=["audit"])


MESSAGE_PARAMS = {f.alias or n for n, f in MessageFilters.model_fields.items()}


def bad(message: str) -> OcpiError:
    return OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, message, http_status=400)


def message_query(params: dict[str, str]) -> MessageQuery:
    """The search of GET /admin/messages from raw parameters (the console's form); raises a 400
    OcpiError that names what is wrong."""
    try:
        filters = MessageFilters.model_validate(params)
    except ValidationError as error:
        raise invalid(error.errors(), sorted(MESSAGE_PARAMS)) from None
    return search(filters, filters.request_id, filters.offset)


def search(filters: SearchFilters, request_id: str | None = None, offset: int = 0) -> MessageQuery:
    try:
        return filters.message_query(request_id, offset)
    except ValueError as error:  # InvalidQuery among them
        raise bad(str(error)) from None


@router.get("/messages", response_model=OcpiAnswer)
def list_messages(filters: Annotated[MessageFilters, Query()], node: AdminNode) -> Response:
    query = search(filters, filters.request_id, filters.offset)
    view = node.services.audit_view
    # One more than asked says whether another page follows (limit may be MAX_LIMIT itself).
    rows = view.find(query, extra=1)
    return ocpi_response(
        {
            "messages": rows[: query.limit],
            "limit": query.limit,
            "offset": query.offset,
            "has_more": len(rows) > query.limit,
            # exact up to a cap, then an estimate (`total_exact` false)
            **view.count(query),
        }
    )


@router.get("/messages/{message_id}", response_model=OcpiAnswer)
def get_message(message_id: str, node: AdminNode) -> Response:
    try:
        message_id = str(UUID(message_id))
    except ValueError:
        raise bad(f"message id must be a UUID, got {message_id!r}") from None
    timeline = message_timeline(node.services.ledger_archive, node.store.ledger.mapper, message_id)
    if timeline is None:
        raise OcpiError(ClientError.GENERIC, f"no message {message_id}", http_status=404)
    timeline["summary"] = node.services.audit_view.summary(message_id)
    return ocpi_response(timeline)


@router.post("/messages/{message_id}/redrive", response_model=OcpiAnswer)
async def redrive_message(message_id: str, node: AdminNode) -> Response:
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
        node.services.routing,
        node.services.ledger_archive,
        node.store.ledger.mapper,
        node.routing_table,
        message_id,
    )


async def redrive_many(
    node: Node, message_ids: list[str], dry_run: bool = False
) -> list[RedriveOutcome]:
    return await redrive_all(
        node.services.routing,
        node.services.ledger_archive,
        node.store.ledger.mapper,
        node.routing_table,
        message_ids,
        dry_run=dry_run,
    )


@router.post("/messages/redrive", response_model=OcpiAnswer)
async def redrive_messages(
    filters: Annotated[RedriveFilters, Query()], node: AdminNode
) -> Response:
    """Re-drive what an audit search finds (the filters of GET /admin/messages), oldest first,
    at most `limit`; `dry_run=true` lists what would be sent. A search must be narrowed by at
    least one filter: re-sending everything is never one click away."""
    if not filters.narrowed():
        narrowing = sorted(set(SearchFilters.model_fields) - {"limit"})
        raise bad(f"narrow the search with at least one of {', '.join(narrowing)}")
    dry_run = filters.dry_run
    query = search(filters)
    ids = node.services.audit_view.message_ids(query, query.limit)
    outcomes = await redrive_many(node, list(reversed(ids)), dry_run=dry_run)
    return ocpi_response(
        {
            "dry_run": dry_run,
            "matched": len(ids),
            "results": [outcome.as_dict() for outcome in outcomes],
        }
    )


@router.get(
    "/evidence",
    responses={200: {"description": "The evidence bundle, a JSON file to save",
                     "content": {"application/json": {"schema": {"type": "object"}}}}},
)  # fmt: skip
def evidence(subject: Annotated[EvidenceSubject, Query()], node: AdminNode) -> Response:
    return evidence_download(node, subject.subject())


def evidence_download(node: Node, subject: dict[str, str]) -> Response:
    """The evidence bundle of one correlation id or object id, as a JSON file to save."""
    if len(subject) != 1 or set(subject) - {"correlation_id", "object_id"}:
        raise bad("give exactly one of correlation_id or object_id")
    query = MessageQuery(**subject, limit=1)  # type: ignore[arg-type]
    ids = node.services.audit_view.message_ids(query, MAX_MESSAGES)
    if not ids:
        raise OcpiError(ClientError.GENERIC, f"no messages for {subject}", http_status=404)
    checkpoints = node.services.checkpoints
    bundle = build_bundle(
        node.services.ledger_archive,
        reversed(ids),
        subject=subject,
        generated_at=ocpi_timestamp(),
        signer=checkpoints.signer,
        take_checkpoint=checkpoints.take,
        node={"party": str(node.settings.party), "base_url": node.settings.base_url},
    )
    bundle["truncated"] = len(ids) >= MAX_MESSAGES
    name = "-".join(f"{k}-{v}" for k, v in subject.items())[:80]
    return Response(
        json.dumps(bundle, indent=1),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="evidence-{name}.json"'},
    )


@router.get("/traffic", response_model=OcpiAnswer)
def traffic(filters: Annotated[TrafficFilters, Query()], node: AdminNode) -> Response:
    try:
        query = TrafficQuery(
            party=filters.party,
            granularity=filters.bucket,
            since=filters.since,
            until=filters.until,
        )
    except InvalidQuery as error:
        raise bad(str(error)) from None
    return ocpi_response(node.services.traffic_view.report(query))


@router.get("/routing-table", response_model=OcpiAnswer)
def routing_table(at: Annotated[RoutingTableAt, Query()], node: AdminNode) -> Response:
    instant = at.as_of
    if instant is None:
        node.projection_runner("routing_table_memory").wait(
            node.store.registry.recorder.max_notification_id() or 0
        )
        return ocpi_response(describe(node.routing_table, datetime.now(UTC)))
    table, replayed = replay_registry(node.store.registry, instant)
    described = describe(table, instant)
    # What the answer rests on: the registry chain up to this link (compare with a checkpoint).
    link = node.services.registry_archive.link_of_record(replayed) if replayed else None
    described["registry_chain"] = (
        {"position": link.position, "hash": link.hash} if link is not None else None
    )
    return ocpi_response(described)


@router.get("/routing-table/explain", response_model=OcpiAnswer)
def explain_route(question: Annotated[RouteQuestion, Query()], node: AdminNode) -> Response:
    """A dry run: where a message to a party would go now and why (`to`, `module`,
    `interface`), or who a broadcast push from a party would reach (`from`, `module`)."""
    params = {k: v for k, v in question.model_dump(by_alias=True).items() if v}
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
    node.projection_runner("routing_table_memory").wait(
        node.store.registry.recorder.max_notification_id() or 0
    )
    service = node.services.routing
    if interface is None:
        if not isinstance(module, ModuleId):
            raise bad(f"custom module {module} is never broadcast")
        return ocpi_response(dataclasses.asdict(service.explain_broadcast(party, module)))
    return ocpi_response(dataclasses.asdict(service.explain_route(party, module, interface)))


@router.get("/hub-objects/gaps", response_model=OcpiAnswer)
def hub_object_gaps(node: AdminNode) -> Response:
    """Objects a rebuild of the hub object store could not restore: the body of a push they
    need was redacted by retention (see application/hub_objects.py). Empty when complete."""
    return ocpi_response({"gaps": node.services.hub_objects.view.gaps()})


@router.post("/projections/{name}/rebuild", response_model=OcpiAnswer)
def rebuild(name: str, node: AdminNode) -> Response:
    if name not in REBUILDABLE:
        raise bad(f"projection must be one of {', '.join(REBUILDABLE)}")
    runner = node.view_runner(name)
    if runner is None:
        raise OcpiError(ClientError.GENERIC, f"projection {name} is not run here", http_status=404)
    runner.view.reset()
    runner.wake()
    return ocpi_response(progress_of(node, name))


@router.get("/projections/{name}", response_model=OcpiAnswer)
def projection_progress(name: str, node: AdminNode) -> Response:
    # node.runners also holds background loops (health checks, sweeps): only views have progress.
    if node.view_runner(name) is None:
        raise OcpiError(ClientError.GENERIC, f"no projection {name}", http_status=404)
    return ocpi_response(progress_of(node, name))


def progress_of(node: Node, name: str) -> dict[str, Any]:
    runner = node.view_runner(name)
    if runner is None:
        raise OcpiError(ClientError.GENERIC, f"no projection {name}", http_status=404)
    return {
        "name": name,
        "position": runner.view.position(),
        "head": runner.source.recorder.max_notification_id() or 0,
        "error": runner.last_error,
    }
