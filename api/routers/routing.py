"""The routed module endpoints: `/ocpi/2.2.1/{module}/{sender|receiver}{/path...}`.

Raw Starlette routes (no pydantic, no dependency injection): the body is read as bytes and
relayed byte for byte; everything else is the routing service's job. Credentials, versions and
hubclientinfo are served elsewhere and never routed. A custom module (an id outside OCPI that
two platforms agreed on) has one route of its own, matched after the OCPI modules' routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.convertors import Convertor, register_url_convertor
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
from application.routing.versions import MODULES_OF, PAYMENTS, V2_1_1, V2_3_0
from application.routing_table import ConnectionEntry
from domain.status_codes import ClientError
from domain.values import (
    CUSTOM_MODULE_PATTERN,
    FUNCTIONAL_MODULES,
    OCPI_VERSION,
    RESERVED_MODULE_IDS,
    AnyModuleId,
    CustomModuleId,
    InterfaceRole,
    ModuleId,
    PartyKey,
)
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


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS,
            f"request body is larger than {limit} bytes",
            http_status=413,
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise OcpiError(
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"request body is larger than {limit} bytes",
                http_status=413,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _endpoint(
    module: ModuleId, interface: InterfaceRole, version: str = OCPI_VERSION
) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        return await _serve_endpoint(request, module, interface, version)

    return route


async def _serve_endpoint(
    request: Request, module: AnyModuleId, interface: InterfaceRole, version: str = OCPI_VERSION
) -> Response:
    node = node_of(request)
    connection, parties = _caller(node, request)
    rest = _raw_rest(request, module, interface, version)
    answer = await serve_routed(
        request, node, connection, parties, module, interface, rest, version
    )
    return Response(answer.body, status_code=answer.http_status, headers=answer.headers)


def _caller(node: Node, request: Request) -> tuple[ConnectionEntry, tuple[PartyKey, ...] | None]:
    # A hosted backend posts async results here too (the callback URLs the node hands out).
    local = backend_caller(node, request)
    if local is not None:
        return local[0], local[1].parties
    return authenticate(request, node.routing_table).connection, None


async def _custom_endpoint(request: Request) -> Response:
    """A custom module's endpoint: on a platform it is routed (direct only); a hub refuses it,
    on record, through the same routing service."""
    module = CustomModuleId(request.path_params["module"])
    interface = request.path_params["interface"]
    if interface not in ("sender", "receiver"):
        return await _no_such_endpoint(request)
    return await _serve_endpoint(request, module, InterfaceRole(interface.upper()))


async def _no_such_endpoint(request: Request) -> Response:
    """Anything else under /ocpi/2.2.1/ from a known caller: refused with 404 on record, so
    "I pushed and you refused" can be looked up like any routed message."""
    node = node_of(request)
    connection, parties = _caller(node, request)
    # The whole path after the prefix: a custom module's route has taken its own parts apart.
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
    """One functional-module request into the routing service, from a connection or backend;
    `version` is the OCPI version of the path prefix it came on."""
    service: RoutingService = node.services.routing
    module_name, interface_name = str(module), str(interface)
    try:
        body = await read_body(request, node.settings.max_body_bytes)
    except OcpiError as error:
        refused = _inbound(
            request, connection, sender_parties, module_name, interface_name, path, b"", version
        )
        return await service.refuse(refused, error.status_code, error.message, error.http_status)
    return await service.handle(
        _inbound(
            request, connection, sender_parties, module_name, interface_name, path, body, version
        )
    )


_PREFIX = f"/ocpi/{OCPI_VERSION}/"


def _raw_rest(
    request: Request, module: AnyModuleId, interface: InterfaceRole, version: str = OCPI_VERSION
) -> str:
    """Everything after `/ocpi/2.2.1/{module}/{interface}` as it came on the wire; '' or
    starting with '/', or with neither when a peer joined the endpoint and the rest without
    '/' (the routing service decides what that means)."""
    decoded = str(request.path_params.get("rest", ""))
    raw_path = request.scope.get("raw_path")
    if not raw_path:
        return decoded
    text = raw_path.decode("latin-1").partition("?")[0]
    prefix = f"/ocpi/{version}/{module}/{str(interface).lower()}"
    # An encoded module or interface name: fall back to the decoded rest (checked again).
    return text[len(prefix) :] if text.startswith(prefix) else decoded


for _module in sorted(FUNCTIONAL_MODULES):
    for _interface in InterfaceRole:
        router.add_route(
            f"/ocpi/{OCPI_VERSION}/{_module}/{_interface.lower()}{{rest:path}}",
            _endpoint(_module, _interface),
            methods=METHODS,
            include_in_schema=False,
        )
# The other versions' module endpoints: the same routing service, the version carried as data
# (it must be the calling connection's; legs and answers are translated between versions).
for _version in (V2_1_1, V2_3_0):
    for _module in sorted(FUNCTIONAL_MODULES):
        if str(_module) not in MODULES_OF[_version]:
            continue
        for _interface in InterfaceRole:
            router.add_route(
                f"/ocpi/{_version}/{_module}/{_interface.lower()}{{rest:path}}",
                _endpoint(_module, _interface, _version),
                methods=METHODS,
                include_in_schema=False,
            )


class _CustomModuleConvertor(Convertor[str]):
    """Matches custom module ids only: an OCPI module's path never reaches the custom route,
    so its answers (404, 405) stay as they were."""

    regex = f"(?!(?:{'|'.join(sorted(RESERVED_MODULE_IDS))})/){CUSTOM_MODULE_PATTERN}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


async def _payments_endpoint(request: Request) -> Response:
    """OCPI 2.3.0 payments: routed by OCPI-to between 2.3.0 parties only (digest §6)."""
    interface = request.path_params["interface"]
    if interface not in ("sender", "receiver"):
        return await _no_such_endpoint(request)
    module = CustomModuleId(PAYMENTS)
    return await _serve_endpoint(request, module, InterfaceRole(interface.upper()), V2_3_0)


router.add_route(
    f"/ocpi/{V2_3_0}/{PAYMENTS}/{{interface}}{{rest:path}}",
    _payments_endpoint,
    methods=METHODS,
    include_in_schema=False,
)

register_url_convertor("custom_module", _CustomModuleConvertor())
# After the OCPI modules' routes: they match first and cost nothing extra.
router.add_route(
    f"/ocpi/{OCPI_VERSION}/{{module:custom_module}}/{{interface}}{{rest:path}}",
    _custom_endpoint,
    methods=METHODS,
    include_in_schema=False,
)
# Last of all (this router is included after the configuration modules' routers): whatever
# else comes under /ocpi/2.2.1/, any method, is refused on record.
router.add_route(
    f"{_PREFIX}{{rest:path}}",
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
    """OpenAPI path items of the routed endpoints, which are raw routes (no request parsing on
    the hot path) and so invisible to FastAPI's generator: clients and fuzzers see them here."""
    rest = {"name": "rest", "in": "path", "required": True, "schema": {"type": "string"}}
    paths: dict[str, Any] = {}
    for module in sorted(FUNCTIONAL_MODULES):
        for interface in InterfaceRole:
            paths[f"/ocpi/{OCPI_VERSION}/{module}/{interface.lower()}/{{rest}}"] = _routed_item(
                f"{module} {interface} interface, routed by OCPI-to",
                f"route_{module}_{interface.lower()}",
                [rest],
            )
    custom = [
        {
            "name": "module",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{CUSTOM_MODULE_PATTERN}$"},
            "description": "a custom module id the two platforms agreed on",
        },
        {
            "name": "interface",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": ["sender", "receiver"]},
        },
        rest,
    ]
    paths[f"/ocpi/{OCPI_VERSION}/{{module}}/{{interface}}/{{rest}}"] = _routed_item(
        "custom module, routed by OCPI-to between platforms directly (a hub answers 404)",
        "route_custom_module",
        custom,
    )
    return paths


def _routed_item(summary: str, operation_id: str, parameters: list[Any]) -> dict[str, Any]:
    headers = [
        {"name": name, "in": "header", "schema": {"type": "string"}} for name in _ROUTING_HEADERS
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
