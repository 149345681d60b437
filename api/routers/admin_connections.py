"""Admin API for connections and parties (Bearer admin token). Plain JSON; errors as OCPI.

Declared the way api/routers/admin_audit.py describes: `admin_router()`, bodies as models of
api/admin_models.py, the node from `node: AdminNode`, the answer's model in `response_model`."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from anyio import to_thread
from fastapi.responses import JSONResponse

from api.admin_models import (
    ConnectionView,
    ConnectRequest,
    EventView,
    InvitationCreated,
    InvitationRequest,
    LeniencyRequest,
    PartyOnConnection,
    PartyRow,
    ReasonRequest,
    TranslationPolicyRequest,
    TranslationPolicyView,
)
from api.admin_router import admin_router
from api.dependencies import AdminNode
from api.errors import OcpiError
from api.node import Node
from application.credentials import HandshakeError, Handshakes
from application.errors import ConnectionNotFoundError
from domain.errors import ConnectionStateError
from domain.status_codes import ClientError
from domain.values import Way
from domain.versions import VersionProposalError

router = admin_router(tags=["connections"])

T = TypeVar("T")


def connection_id_of(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise ConnectionNotFoundError(f"no connection {text}") from None


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """Use cases block (store, peers): run them in a worker thread; map state errors."""
    try:
        return await to_thread.run_sync(partial(function, *args))
    except ConnectionStateError as error:
        raise OcpiError(ClientError.GENERIC, str(error), 409) from None
    except VersionProposalError as error:
        raise OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, str(error), 400) from None
    except HandshakeError as error:
        http_status = 409 if error.http_status == 405 else 502
        message = error.message
        if error.connection_id is not None:
            message = f"connection {error.connection_id}: {message}"
        raise OcpiError(error.status_code, message, http_status) from None


def connection_view(node: Node, connection_id: str) -> dict[str, Any]:
    entry = node.routing_table_view.connection(connection_id)
    if entry is None:
        raise ConnectionNotFoundError(f"no connection {connection_id}")
    parties = [
        PartyOnConnection(
            country_code=r["country_code"],
            party_id=r["party_id"],
            role=r["role"],
            status=r["status"],
        )
        for r in node.routing_table_view.parties_on(connection_id)
    ]
    return ConnectionView(
        id=entry.id,
        label=entry.label,
        initiated_by=entry.initiated_by,
        status=str(entry.status),
        status_reason=entry.status_reason,
        version=entry.version,
        proposed_version=entry.proposed_version,
        proposed_role=entry.proposed_role,
        refuse_losing=list(entry.refuse_losing),
        versions_url=entry.versions_url,
        registered=entry.is_registered,
        unregistered=entry.unregistered,
        leniency=str(entry.leniency),
        parties=parties,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    ).model_dump()


def handshakes(node: Node) -> Handshakes:
    found: Handshakes = node.services.handshakes
    return found


@router.post("/invitations", status_code=201, response_model=InvitationCreated)
async def invite(body: InvitationRequest, node: AdminNode) -> JSONResponse:
    connection_id, token_a, position = await off_loop(
        node.registry.invite, body.label, body.leniency, body.ocpi_version, body.role
    )
    await off_loop(node.wait_for_registry, position)
    created = InvitationCreated(
        id=str(connection_id), token_a=token_a, versions_url=node.versions_url
    )
    return JSONResponse(created.model_dump(), status_code=201)


@router.post("/connections", status_code=201, response_model=ConnectionView)
async def connect(body: ConnectRequest, node: AdminNode) -> JSONResponse:
    url = str(body.versions_url)
    connection_id = await off_loop(
        handshakes(node).register_with,
        body.label or url,
        url,
        body.token_a,
        body.ocpi_version,
        body.role,
    )
    return JSONResponse(connection_view(node, str(connection_id)), status_code=201)


@router.get("/connections", response_model=list[ConnectionView])
def list_connections(node: AdminNode) -> JSONResponse:
    views = [connection_view(node, c.id) for c in node.routing_table_view.connections()]
    return JSONResponse(views)


@router.get("/connections/{connection_id}", response_model=ConnectionView)
def get_connection(connection_id: str, node: AdminNode) -> JSONResponse:
    return JSONResponse(connection_view(node, str(connection_id_of(connection_id))))


async def _change(
    node: Node,
    connection_id: str,
    body: ReasonRequest | None,
    use_case: Callable[[Node, UUID, str], int],
) -> JSONResponse:
    uuid = connection_id_of(connection_id)
    reason = (body or ReasonRequest()).reason
    position = await off_loop(use_case, node, uuid, reason)
    await off_loop(node.wait_for_registry, position)
    return JSONResponse(connection_view(node, str(uuid)))


@router.post("/connections/{connection_id}/suspend", response_model=ConnectionView)
async def suspend(
    connection_id: str, node: AdminNode, body: ReasonRequest | None = None
) -> JSONResponse:
    """The body is optional: without one the reason is "by the operator"."""
    return await _change(
        node, connection_id, body, lambda n, i, reason: n.registry.suspend_connection(i, reason)
    )


@router.post("/connections/{connection_id}/reactivate", response_model=ConnectionView)
async def reactivate(
    connection_id: str, node: AdminNode, body: ReasonRequest | None = None
) -> JSONResponse:
    """The body is optional: without one the reason is "by the operator"."""
    return await _change(
        node, connection_id, body, lambda n, i, reason: n.registry.reactivate_connection(i, reason)
    )


@router.put("/connections/{connection_id}/leniency", response_model=ConnectionView)
async def set_leniency(connection_id: str, body: LeniencyRequest, node: AdminNode) -> JSONResponse:
    """Lenient (the default) takes what sloppy peer software sends where its meaning is
    unambiguous, noting each decision on the message; strict refuses it with 2001."""
    uuid = connection_id_of(connection_id)
    position = await off_loop(node.registry.set_leniency, uuid, body.leniency, body.reason)
    await off_loop(node.wait_for_registry, position)
    return JSONResponse(connection_view(node, str(uuid)))


def translation_policy_view(node: Node, connection_id: str) -> dict[str, Any]:
    # The routing table in memory holds the policy the hot path applies.
    entry = node.routing_table.connection(connection_id)
    if entry is None:
        raise ConnectionNotFoundError(f"no connection {connection_id}")
    return TranslationPolicyView(
        connection_id=connection_id, version=entry.version, refuse_losing=list(entry.refuse_losing)
    ).model_dump()


@router.get("/connections/{connection_id}/translation-policy", response_model=TranslationPolicyView)
async def get_translation_policy(connection_id: str, node: AdminNode) -> JSONResponse:
    return JSONResponse(translation_policy_view(node, str(connection_id_of(connection_id))))


@router.put("/connections/{connection_id}/translation-policy", response_model=TranslationPolicyView)
async def set_translation_policy(
    connection_id: str, body: TranslationPolicyRequest, node: AdminNode
) -> JSONResponse:
    """Fields whose loss in a translation between OCPI versions makes the hub refuse a message
    to or from this connection (answered 2001, recorded as Refused or in the broadcast's
    reason). An empty list translates whatever can be translated, reporting the losses."""
    uuid = connection_id_of(connection_id)
    position = await off_loop(
        node.registry.set_translation_policy, uuid, body.refuse_losing, body.reason
    )
    await off_loop(node.wait_for_registry, position)
    return JSONResponse(translation_policy_view(node, str(uuid)))


@router.post("/connections/{connection_id}/rotate-token", response_model=ConnectionView)
async def rotate(connection_id: str, node: AdminNode) -> JSONResponse:
    uuid = connection_id_of(connection_id)
    await off_loop(handshakes(node).rotate, uuid)
    return JSONResponse(connection_view(node, str(uuid)))


@router.delete("/connections/{connection_id}", response_model=ConnectionView)
async def disconnect(connection_id: str, node: AdminNode) -> JSONResponse:
    uuid = connection_id_of(connection_id)
    await off_loop(handshakes(node).unregister, uuid)
    return JSONResponse(connection_view(node, str(uuid)))


@router.get("/connections/{connection_id}/events", response_model=list[EventView])
def connection_events(connection_id: str, node: AdminNode) -> JSONResponse:
    """The connection's ledger, oldest first, with every token field redacted."""
    uuid = connection_id_of(connection_id)
    node.registry.get_connection(uuid)  # 404 when unknown
    events = [
        EventView(
            type=type(event).__name__,
            version=event.originator_version,
            timestamp=event.timestamp.isoformat(),
            fields=redacted(event),
        ).model_dump()
        for event in node.registry.repository.event_store.get(uuid)
    ]
    return JSONResponse(events)


def redacted(event: Any) -> dict[str, Any]:
    fields = {}
    for name, value in vars(event).items():
        if name in ("originator_id", "originator_version", "timestamp"):
            continue
        secret = "token" in name and not name.endswith("_encoding")
        fields[name] = "[redacted]" if secret and value else value
    return fields


@router.get("/parties", response_model=list[PartyRow])
def list_parties(node: AdminNode) -> JSONResponse:
    rows = [
        PartyRow(
            country_code=r["country_code"],
            party_id=r["party_id"],
            role=r["role"],
            status=r["status"],
            kind=r["kind"],
            connection_id=None if r["route_key"] in (None, Way.LOCAL) else r["route_key"],
            local=r["route_key"] == Way.LOCAL,
            business_details=json.loads(r["business_details"] or "{}"),
        ).model_dump()
        for r in node.routing_table_view.routes()
    ]
    return JSONResponse(rows)
