"""The routed module endpoints as raw ASGI, in front of FastAPI (issue 15).

A routed request (`/ocpi/{version}/{module}/{sender|receiver}{rest}`, an OCPI functional module
or a custom one) is parsed from the ASGI scope, its token resolved to a connection (the rules
of api/auth.py), its body read within the limit, handed to the routing service and the answer
written: no Starlette Request or Response, no routing table of routes, no middleware it does
not need (its answers carry X-Request-ID and X-Correlation-ID themselves). Everything else
(admin API, credentials, versions, hubclientinfo, console, health, receipts, OpenAPI, and what
under `/ocpi/2.2.1/` is no routed endpoint, refused on record there) goes on to FastAPI as it
came.

Which versions are routed, and what serves each, is data (`ROUTED_VERSIONS`): another version's
prefix is one more entry.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import authenticate_header
from api.envelope import envelope
from api.errors import as_ocpi_error
from api.hosted_backends import backend_of_header
from api.node import Node
from api.routers.routing import METHODS, answer_routed
from application.routing import InboundRequest, RoutingService
from application.routing.versions import MODULES_OF
from domain.values import (
    CUSTOM_MODULE_PATTERN,
    FUNCTIONAL_MODULES,
    OCPI_VERSION,
    RESERVED_MODULE_IDS,
    AnyModuleId,
    CustomModuleId,
    InterfaceRole,
    ModuleId,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoutedVersion:
    """What the front routes under one `/ocpi/{version}/` prefix, and the service it goes to."""

    modules: frozenset[ModuleId]
    """The OCPI modules routed under this version."""
    service: Callable[[Node], RoutingService]
    custom_modules: bool = True
    """Whether custom module ids (outside OCPI, agreed between two platforms) are routed."""
    opaque_modules: frozenset[str] = frozenset()
    """Modules of this version that OCPI's ModuleID table lacks (2.3.0's payments), routed
    as custom modules are: their bodies are relayed, never translated."""


def _routing_service(node: Node) -> RoutingService:
    return node.services.routing


def _routed(version: str) -> RoutedVersion:
    """Every version's module endpoints go to the same routing service, the version carried
    as data (it must be the calling connection's; legs are translated between versions).
    Custom modules are agreed between 2.2.1 platforms only."""
    modules = frozenset(m for m in FUNCTIONAL_MODULES if str(m) in MODULES_OF[version])
    return RoutedVersion(
        modules,
        _routing_service,
        custom_modules=version == OCPI_VERSION,
        opaque_modules=MODULES_OF[version] - RESERVED_MODULE_IDS,
    )


ROUTED_VERSIONS: dict[str, RoutedVersion] = {version: _routed(version) for version in MODULES_OF}

_ROLES = {"sender": InterfaceRole.SENDER, "receiver": InterfaceRole.RECEIVER}
_CUSTOM_MODULE = re.compile(CUSTOM_MODULE_PATTERN)
_METHODS = frozenset(METHODS)
_CONTENT_LENGTH = b"content-length"
_REQUEST_ID, _CORRELATION_ID = b"x-request-id", b"x-correlation-id"


@dataclass(frozen=True, slots=True)
class RoutedPath:
    version: str
    module: AnyModuleId
    interface: InterfaceRole
    rest: str
    """Everything after `{module}/{interface}` as it came on the wire: '' or starting with '/',
    or with neither when a peer joined the endpoint and the rest without '/' (the routing
    service decides what that means)."""


def parse_routed_path(
    path: str, raw_path: bytes | None, versions: Mapping[str, RoutedVersion]
) -> RoutedPath | None:
    """The routed endpoint `path` (the decoded scope path) names, or None for anything else.

    The matches of the Starlette routes this replaced: an OCPI module's interface name may be
    followed by anything (the routing service judges the rest); a custom module's interface
    is a whole segment, and one other than sender/receiver is no routed endpoint.
    """
    if not path.startswith("/ocpi/") or "\n" in path:
        return None
    version, slash, rest = path[6:].partition("/")
    served = versions.get(version)
    if served is None or not slash:
        return None
    module, slash, after = rest.partition("/")
    if not slash:
        return None
    module_id: AnyModuleId
    if module in served.modules:
        name = "sender" if after.startswith("sender") else "receiver"
        if not after.startswith(name):
            return None
        module_id, decoded_rest = ModuleId(module), after[len(name) :]
    elif module in served.opaque_modules or (
        served.custom_modules
        and module not in RESERVED_MODULE_IDS
        and _CUSTOM_MODULE.fullmatch(module)
    ):
        name, slash, tail = after.partition("/")
        if name not in _ROLES:
            return None
        module_id, decoded_rest = CustomModuleId(module), slash + tail
    else:
        return None
    prefix = f"/ocpi/{version}/{module}/{name}"
    wire = raw_path.decode("latin-1").partition("?")[0] if raw_path else ""
    # An encoded module or interface name: the decoded rest (the routing service checks it).
    raw_rest = wire[len(prefix) :] if wire.startswith(prefix) else decoded_rest
    return RoutedPath(version, module_id, _ROLES[name], raw_rest)


class RoutedFront:
    """ASGI middleware, outermost: routed requests are answered here, the rest passes on."""

    def __init__(
        self, app: ASGIApp, versions: Mapping[str, RoutedVersion] = ROUTED_VERSIONS
    ) -> None:
        self.app = app
        self.versions = versions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed = None
        if scope["type"] == "http" and scope["method"] in _METHODS:
            routed = parse_routed_path(scope["path"], scope.get("raw_path"), self.versions)
        if routed is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(raw=scope["headers"])
        try:
            node: Node = scope["app"].state.node
            inbound = _inbound(node, scope, headers, routed)
            answer = await answer_routed(
                self.versions[routed.version].service(node),
                inbound,
                _body_chunks(receive),
                headers.get("content-length", ""),
                node.settings.max_body_bytes,
            )
        except _Disconnected:
            return  # nobody left to answer
        except Exception as error:
            failure = as_ocpi_error(error)
            if failure.http_status == 500:  # nothing expected: the node's own fault
                log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            body = json.dumps(
                envelope(None, failure.status_code, failure.message), separators=(",", ":")
            ).encode()
            error_headers = {**failure.headers, "content-type": "application/json"}
            await _respond(send, scope, failure.http_status, error_headers, body)
            return
        await _respond(send, scope, answer.http_status, answer.headers, answer.body)


def _inbound(node: Node, scope: Scope, headers: Headers, routed: RoutedPath) -> InboundRequest:
    authorization = headers.get("authorization") or ""
    # A hosted backend posts async results here too (the callback URLs the node hands out).
    local = backend_of_header(node, authorization)
    if local is not None:
        connection, parties = local[0], local[1].parties
    else:
        connection, parties = (
            authenticate_header(authorization, node.routing_table).connection,
            None,
        )
    return InboundRequest(
        connection=connection,
        module=str(routed.module),
        interface=str(routed.interface),
        method=scope["method"],
        path=routed.rest,
        query=scope["query_string"].decode("latin-1"),
        headers=headers,
        sender_parties=parties,
        version=routed.version,
    )


class _Disconnected(Exception):
    pass


async def _body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _respond(
    send: Send, scope: Scope, status: int, headers: Mapping[str, str], body: bytes
) -> None:
    """The answer as Starlette's Response wrote it (lower-case names, Content-Length where a
    body may be), with X-Request-ID and X-Correlation-ID: the request's, or new ones when
    the answer has none (as api/request_ids.py does for every other response)."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    present = {name for name, _ in raw}
    if _CONTENT_LENGTH not in present and not (status < 200 or status in (204, 304)):
        raw.append((_CONTENT_LENGTH, str(len(body)).encode("latin-1")))
    for name in (_REQUEST_ID, _CORRELATION_ID):
        if name not in present:
            raw.append((name, _header(scope, name) or str(uuid.uuid4()).encode()))
    message: Message = {"type": "http.response.start", "status": status, "headers": raw}
    await send(message)
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None
