"""The routed module endpoints: `/ocpi/{version}/{module}/{sender|receiver}{/path...}`.

The requests themselves are taken by the raw ASGI front (api/routed_front.py) before FastAPI
sees them; this module builds the routing service, reads a body within its limit, hands one
request to the service, refuses on record whatever else comes under `/ocpi/{version}/` (a FastAPI
route, as the front lets it through) and describes the routed endpoints in the OpenAPI
document. Credentials, versions and hubclientinfo are served elsewhere and never routed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from api.auth import authenticate
from api.dependencies import node_of
from api.errors import OcpiError
from api.hosted_backends import backend_caller
from api.node import Node
from application.owner_index import InMemoryOwnerIndex
from application.rate_limits import RateLimiter
from application.routing import Answer, InboundRequest, RoutingConfig, RoutingService
from application.routing.versions import MODULES_OF
from application.routing_table import ConnectionEntry
from domain.status_codes import ClientError
from domain.values import (
    CUSTOM_MODULE_PATTERN,
    FUNCTIONAL_MODULES,
    OCPI_VERSION,
    RESERVED_MODULE_IDS,
    AnyModuleId,
    InterfaceRole,
    PartyKey,
)
from domain.versions import V2_1_1
from infrastructure.background_loop import BackgroundLoop
from infrastructure.callback_store import SqlLinkStore
from infrastructure.forwarder import HttpDeliverer
from infrastructure.hub_object_store import SqlOwnerFactStore

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

router = APIRouter()


EXPIRED_LINK_GRACE = timedelta(days=1)
"""How long an expired callback link is kept before the sweep deletes it (a late callback is
refused either way; the day leaves the mapping to look at while a dispute is fresh)."""
LINK_SWEEP_SECONDS = 3600.0


def install_routing(node: Node) -> None:
    """Start-up hook: build the routing service on the node's stores and routing table."""
    settings = node.settings
    database = node.store.ledger_db
    links = SqlLinkStore(database)

    def sweep_links() -> int:
        links.delete_expired(datetime.now(UTC) - EXPIRED_LINK_GRACE)
        return 0  # nothing to follow up at once: the next sweep is an hour away

    # Without it every command's callback link would stay in the table for ever.
    node.runners["hub_link_expiry"] = BackgroundLoop(
        "hub_link_expiry", sweep_links, idle=LINK_SWEEP_SECONDS
    )
    owner_facts = SqlOwnerFactStore(database)
    owners = InMemoryOwnerIndex()
    for fact in owner_facts.all():
        owners.learn(fact)
    node.services.routing = RoutingService(
        RoutingConfig(
            # on a platform nothing is addressed to the node itself: its party is a hosted one
            hub=settings.party if settings.is_hub else None,
            base_url=settings.base_url,
            hub_error_http_status=settings.hub_error_http_status,
            policy=tuple(node.services.route_policy),
            outcome_before_answer=settings.outcome_commit == "before-answer",
        ),
        node.routing_table,
        node.committer,
        HttpDeliverer(
            timeout=settings.forward_timeout,
            max_response_bytes=settings.max_body_bytes,
            per_receiver_concurrency=settings.receiver_concurrency,
            ca_bundle=settings.ca_bundle,
        ),
        links,
        node.services.hub_objects,
        owners,
        owner_facts,
        limiter=RateLimiter(settings.rate_limits) if settings.rate_limits else None,
        backends=node.services.backends,
    )


def _too_large(limit: int) -> OcpiError:
    return OcpiError(
        ClientError.INVALID_OR_MISSING_PARAMETERS,
        f"request body is larger than {limit} bytes",
        http_status=413,
    )


async def read_limited(chunks: AsyncIterator[bytes], declared: str, limit: int) -> bytes:
    """A request body of at most `limit` bytes (413 above, by Content-Length or as counted)."""
    if declared.isdecimal() and int(declared) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def read_body(request: Request, limit: int) -> bytes:
    return await read_limited(request.stream(), request.headers.get("content-length", ""), limit)


async def answer_routed(
    service: RoutingService,
    request: InboundRequest,
    chunks: AsyncIterator[bytes],
    declared_length: str,
    limit: int,
) -> Answer:
    """`request` (its body still to read from `chunks`) through the routing service; a body
    over the limit is refused on record."""
    try:
        body = await read_limited(chunks, declared_length, limit)
    except OcpiError as error:
        return await service.refuse(request, error.status_code, error.message, error.http_status)
    return await service.handle(replace(request, body=body))


def _caller(node: Node, request: Request) -> tuple[ConnectionEntry, tuple[PartyKey, ...] | None]:
    # A hosted backend posts async results here too (the callback URLs the node hands out).
    local = backend_caller(node, request)
    if local is not None:
        return local[0], local[1].parties
    return authenticate(request, node.routing_table).connection, None


async def _no_such_endpoint(request: Request) -> Response:
    """Anything else under /ocpi/{version}/ from a known caller: refused with 404 on record, so
    "I pushed and you refused" can be looked up like any routed message."""
    node = node_of(request)
    connection, parties = _caller(node, request)
    _, _, version, rest = [*request.url.path.split("/", 3), "", "", "", ""][:4]
    module, _, remainder = rest.partition("/")
    interface, _, path = remainder.partition("/")
    try:
        body = await read_body(request, node.settings.max_body_bytes)
    except OcpiError:
        body = b""  # the refusal is about the endpoint; an oversized body is not kept
    service: RoutingService = node.services.routing
    answer = await service.refuse(
        _inbound(
            request,
            connection,
            parties,
            module[:64],
            interface[:16],
            "/" + path,
            body,
            version if version in MODULES_OF else OCPI_VERSION,
        ),
        ClientError.GENERIC,
        f"no such endpoint: {request.method} {request.url.path}",
        http_status=404,
    )
    return Response(answer.body, status_code=answer.http_status, headers=answer.headers)


def _inbound(
    request: Request,
    connection: ConnectionEntry,
    sender_parties: tuple[PartyKey, ...] | None,
    module: str,
    interface: str,
    path: str,
    body: bytes,
    version: str = OCPI_VERSION,
) -> InboundRequest:
    return InboundRequest(
        connection=connection,
        module=module,
        interface=interface,
        method=request.method,
        # The raw path keeps percent-encoding, as parse_operation expects.
        path=path,
        query=request.url.query,
        headers=request.headers,
        body=body,
        sender_parties=sender_parties,
        version=version,
    )


async def serve_routed(
    request: Request,
    node: Node,
    connection: ConnectionEntry,
    sender_parties: tuple[PartyKey, ...] | None,
    module: AnyModuleId,
    interface: InterfaceRole,
    path: str,
    version: str = OCPI_VERSION,
) -> Answer:
    """One functional-module request into the routing service from a FastAPI route (a hosted
    backend's egress, api/platform.py); `version` is the OCPI version of its path prefix."""
    inbound = _inbound(
        request, connection, sender_parties, str(module), str(interface), path, b"", version
    )
    return await answer_routed(
        node.services.routing,
        inbound,
        request.stream(),
        request.headers.get("content-length", ""),
        node.settings.max_body_bytes,
    )


# Last of all (this router is included after the configuration modules' routers): whatever
# else comes under /ocpi/{version}/, any method, is refused on record. The routed endpoints never
# get here: the raw ASGI front (api/routed_front.py) takes them first.
for _version in MODULES_OF:
    router.add_route(
        f"/ocpi/{_version}/{{rest:path}}",
        _no_such_endpoint,
        methods=[*METHODS, "HEAD", "OPTIONS", "TRACE", "CONNECT"],
        include_in_schema=False,
    )


async def close_routing(node: Node) -> None:
    service: RoutingService | None = getattr(node.services, "routing", None)
    if service is not None:
        await asyncio.shield(service.aclose())


_ROUTING_HEADERS = (
    "OCPI-to-country-code",
    "OCPI-to-party-id",
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "X-Request-ID",
    "X-Correlation-ID",
)


def openapi_paths() -> dict[str, Any]:
    """OpenAPI path items of the routed endpoints of every version, which are raw routes (no
    request parsing on the hot path) and so invisible to FastAPI's generator: clients and
    fuzzers see them here. 2.1.1 parties send no routing headers (routed by content)."""
    rest = {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}}
    interface = {
        "name": "interface",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["sender", "receiver"]},
    }
    paths: dict[str, Any] = {}
    for version, modules in MODULES_OF.items():
        routed_by = (
            "content (OCPI 2.1.1 has no routing headers)" if version == V2_1_1 else "OCPI-to"
        )
        headers = _ROUTING_HEADERS if version != V2_1_1 else ()
        for module in sorted(m for m in FUNCTIONAL_MODULES if str(m) in modules):
            for role in InterfaceRole:
                paths[f"/ocpi/{version}/{module}/{role.lower()}/{{rest}}"] = _routed_item(
                    f"OCPI {version} {module} {role} interface, routed by {routed_by}",
                    _operation_id(version, f"{module}_{role.lower()}"),
                    [rest],
                    headers,
                )
        for opaque in sorted(modules - RESERVED_MODULE_IDS):
            paths[f"/ocpi/{version}/{opaque}/{{interface}}/{{rest}}"] = _routed_item(
                f"OCPI {version} {opaque} (relayed as it is), routed by OCPI-to between "
                f"parties of OCPI {version}",
                _operation_id(version, opaque),
                [interface, rest],
                headers,
            )
    custom = [
        {
            "name": "module",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{CUSTOM_MODULE_PATTERN}$"},
            "description": "a custom module id the two platforms agreed on",
        },
        interface,
        rest,
    ]
    paths[f"/ocpi/{OCPI_VERSION}/{{module}}/{{interface}}/{{rest}}"] = _routed_item(
        "custom module, routed by OCPI-to between platforms directly (a hub answers 404)",
        "route_custom_module",
        custom,
        _ROUTING_HEADERS,
    )
    return paths


def _operation_id(version: str, name: str) -> str:
    # 2.2.1's ids are kept as they were (clients generated from the description use them).
    suffix = "" if version == OCPI_VERSION else "_v" + version.replace(".", "")
    return f"route_{name}{suffix}"


def _routed_item(
    summary: str, operation_id: str, parameters: list[Any], header_names: tuple[str, ...]
) -> dict[str, Any]:
    headers = [
        {"name": name, "in": "header", "schema": {"type": "string"}} for name in header_names
    ]
    item: dict[str, Any] = {}
    for method in METHODS:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{operation_id}_{method.lower()}",
            "tags": ["OCPI routing"],
            "parameters": [*parameters, *headers],
            "responses": {"200": {"description": "OCPI response envelope"}},
        }
        if method in ("POST", "PUT", "PATCH"):
            operation["requestBody"] = {"content": {"application/json": {"schema": {}}}}
        item[method.lower()] = operation
    return item
