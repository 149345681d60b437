"""Platform mode: hosted parties' backends send through the node's egress, and callbacks return.

A backend (the software of one or more hosted parties) calls
`{node}/egress/{module}/{sender|receiver}{/path}` with its backend token. The node checks that
FROM is a party that backend hosts, chooses the route (domain/route_choice.py), records the
message in the ledger with the decision and its reason, delivers it over the chosen connection
(or to the local backend hosting the target), records the answer and hands it back.

Asynchronous results (`response_url` of commands and charging profiles) cannot reach a backend
from another platform, so the node substitutes a callback URL of its own and relays the result
to the original URL when it arrives (digest §2.9, the same pattern a hub uses).

Decisions:
* Callback mappings live in memory with an expiry: a restart loses pending async results (the
  requester then sees its command time out, as with any lost result); the forwarded messages
  themselves are in the ledger.
* The target's role is not in the routing headers; the route is taken from every role of that
  (country_code, party_id), local hosting first.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from application.bodies import Body
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from application.tokens import hash_token
from domain.errors import InvalidHeaderError, InvalidPartyError, RewriteError
from domain.headers import (
    forward_request_headers,
    lower_names,
    relay_response_headers,
    routing_headers,
    sanitize_for_ledger,
)
from domain.messages import RoutedMessage
from domain.parties import ROUTE_DIRECT, ROUTE_HUB, ROUTE_LOCAL
from domain.rewriting import replace_json_string_field, replace_query_param
from domain.route_choice import (
    NoRoute,
    PolicyRule,
    RouteCandidate,
    RouteDecision,
    RouteKind,
    choose_route,
    policy_for,
    worse_status,
)
from domain.values import PartyKey, PartyRef

CALLBACK_TTL_S = 3600.0
INVALID_PARAMETERS = 2001
HUB_UNKNOWN_RECEIVER = 4001
HUB_TIMEOUT = 4002
HUB_CONNECTION_PROBLEM = 4003


@dataclass(frozen=True)
class Backend:
    """One backend process: its OCPI versions URL, the token both sides use, its parties."""

    versions_url: str
    token: str
    parties: tuple[PartyKey, ...]

    def hosts(self, ref: PartyRef) -> bool:
        return any(key.ref == ref for key in self.parties)


class HostedBackends:
    def __init__(self, backends: Iterable[Backend]) -> None:
        self._by_token_hash = {hash_token(b.token): b for b in backends}
        self._by_party = {key.ref: b for b in self._by_token_hash.values() for key in b.parties}

    def by_token(self, candidates: Iterable[str]) -> Backend | None:
        for token in candidates:
            backend = self._by_token_hash.get(hash_token(token))
            if backend is not None:
                return backend
        return None

    def hosting(self, ref: PartyRef) -> Backend | None:
        return self._by_party.get(ref)

    def all(self) -> list[Backend]:
        return list(self._by_token_hash.values())


@dataclass(frozen=True)
class Request:
    """An HTTP request as the node received it; `headers` with lower-case names."""

    method: str
    module: str
    interface: str  # SENDER | RECEIVER
    path: str  # after the module endpoint, "" or "/a/b"
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    http_status: int
    headers: dict[str, str]
    body: bytes
    route: RouteDecision | None = None

    @property
    def ocpi_status(self) -> int | None:
        try:
            value = json.loads(self.body).get("status_code")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None


class DeliveryFailed(Exception):
    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class Transport(Protocol):
    """The way out: HTTP to a connection's endpoint or a backend, and backends' module URLs."""

    async def call(
        self, method: str, url: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer: ...

    async def backend_module_url(
        self, backend: Backend, module: str, interface: str
    ) -> str | None: ...


class Recorder(Protocol):
    async def record(self, *messages: RoutedMessage, bodies: list[Body] = ...) -> int: ...


@dataclass(frozen=True)
class Callback:
    original_url: str
    module: str
    backend: Backend | None  # deliver with this backend's token ...
    connection_id: str | None  # ... or over this connection
    requester: PartyRef
    responder: PartyRef
    expires_at: float


@dataclass
class CallbackTable:
    entries: dict[str, Callback] = field(default_factory=dict)
    clock: object = time.monotonic

    def mint(self, callback: Callback) -> str:
        self._expire()
        callback_id = uuid.uuid4().hex
        self.entries[callback_id] = callback
        return callback_id

    def get(self, callback_id: str) -> Callback | None:
        entry = self.entries.get(callback_id)
        if entry is None or entry.expires_at < self.clock():  # type: ignore[operator]
            return None
        return entry

    def _expire(self) -> None:
        now = self.clock()  # type: ignore[operator]
        for key in [k for k, v in self.entries.items() if v.expires_at < now]:
            del self.entries[key]


@dataclass(frozen=True)
class Refusal(Exception):
    http_status: int
    ocpi_status: int
    reason: str


@dataclass(frozen=True)
class Route:
    decision: RouteDecision
    url: str
    token_header: str
    connection_id: str | None


class PlatformService:
    """Egress of hosted parties and relaying of async results, recorded in the ledger."""

    def __init__(
        self,
        table: InMemoryRoutingTable,
        backends: HostedBackends,
        rules: Iterable[PolicyRule],
        transport: Transport,
        recorder: Recorder,
        ocpi_base: str,
    ) -> None:
        self.table = table
        self.backends = backends
        self.rules = tuple(rules)
        self.transport = transport
        self.recorder = recorder
        self.ocpi_base = ocpi_base
        self.callbacks = CallbackTable()

    # ---- egress ------------------------------------------------------------------------------

    async def send(self, backend: Backend, request: Request) -> Answer:
        """A hosted party's outbound request: check FROM, choose, record, deliver, answer."""
        headers = lower_names(request.headers)
        message = self._received(f"backend:{backend.versions_url}", None, request, headers)
        try:
            from_party, to_party = self._routing_pair(headers)
            if from_party is None or not backend.hosts(from_party):
                raise Refusal(
                    400,
                    INVALID_PARAMETERS,
                    f"OCPI-from {from_party} is not a party this backend hosts",
                )
            if to_party is None:
                raise Refusal(400, INVALID_PARAMETERS, "egress requests need OCPI-to-* headers")
            route = await self._route(to_party, request)
            body, query = self._substitute_response_url(
                request, route, requester=from_party, responder=to_party
            )
        except Refusal as refusal:
            return await self._refuse(message, refusal, request)
        message.route(str(route.decision.kind), [str(to_party)], route.decision.reason)
        return await self._deliver(
            message, route, request, headers, body, query, from_party, to_party
        )

    # ---- async results -----------------------------------------------------------------------

    def authenticate_callback_caller(self, tokens: list[str]) -> Backend | ConnectionEntry | None:
        backend = self.backends.by_token(tokens)
        if backend is not None:
            return backend
        for token in tokens:
            connection = self.table.connection_by_token_hash(hash_token(token))
            if connection is not None and not connection.unregistered:
                return connection
        return None

    async def relay_result(
        self, caller: Backend | ConnectionEntry, callback_id: str, request: Request
    ) -> Answer:
        """An async result posted to a callback URL we minted: relay it to the original URL."""
        callback = self.callbacks.get(callback_id)
        request = replace(request, module=callback.module if callback else "unknown")
        headers = lower_names(request.headers)
        scope = (
            f"backend:{caller.versions_url}"
            if isinstance(caller, Backend)
            else f"connection:{caller.id}"
        )
        connection_id = None if isinstance(caller, Backend) else caller.id
        message = self._received(scope, connection_id, request, headers)
        try:
            if callback is None:
                raise Refusal(404, INVALID_PARAMETERS, f"unknown or expired callback {callback_id}")
            if isinstance(caller, Backend) and not caller.hosts(callback.responder):
                raise Refusal(403, INVALID_PARAMETERS, "this backend does not host the responder")
            route = self._callback_route(callback)
        except Refusal as refusal:
            return await self._refuse(message, refusal, request)
        message.route(route.decision.kind, [str(callback.requester)], route.decision.reason)
        return await self._deliver(
            message,
            route,
            request,
            headers,
            request.body,
            request.query,
            callback.responder,
            callback.requester,
        )

    # ---- steps -------------------------------------------------------------------------------

    def _received(
        self,
        scope: str,
        connection_id: str | None,
        request: Request,
        headers: dict[str, str],
    ) -> RoutedMessage:
        body = Body.of(request.body) if request.body else None
        try:
            from_party, to_party = self._routing_pair(headers)
        except Refusal:
            from_party = to_party = None
        return RoutedMessage(
            sender_scope=scope,
            request_id=headers.get("x-request-id") or str(uuid.uuid4()),
            attempt=0,
            correlation_id=headers.get("x-correlation-id") or str(uuid.uuid4()),
            connection_id=connection_id,
            method=request.method,
            path=f"/{request.module}/{request.interface.lower()}{request.path}",
            query=request.query,
            module=request.module,
            interface=request.interface,
            headers=sanitize_for_ledger(headers),
            body_sha256=body.sha256 if body else None,
            body_size=body.size if body else 0,
            from_party=str(from_party) if from_party else None,
            to_party=str(to_party) if to_party else None,
        )

    @staticmethod
    def _routing_pair(headers: Mapping[str, str]) -> tuple[PartyRef | None, PartyRef | None]:
        try:
            from_party, to_party = routing_headers(headers)
        except (InvalidPartyError, InvalidHeaderError) as error:
            raise Refusal(400, INVALID_PARAMETERS, f"bad routing headers: {error}") from None
        return from_party, to_party

    def candidates(self, target: PartyRef, module: str, interface: str) -> list[RouteCandidate]:
        found: list[RouteCandidate] = []
        for route in self.table.routes_to(target):
            if route.kind == ROUTE_LOCAL:
                found.append(RouteCandidate(RouteKind.LOCAL, None, route.status, True))
                continue
            connection = self.table.connection(route.route_key)
            if connection is None or route.kind not in (ROUTE_DIRECT, ROUTE_HUB):
                continue
            found.append(
                RouteCandidate(
                    RouteKind(route.kind),
                    connection.id,
                    worse_status(route.status, connection.status),
                    connection.endpoint_url(module, interface) is not None,
                    connection.label,
                )
            )
        return found

    async def _route(self, target: PartyRef, request: Request) -> Route:
        interface = request.interface.upper()
        decision = choose_route(
            target,
            request.module,
            interface,
            self.candidates(target, request.module, interface),
            policy_for(self.rules, target, request.module),
        )
        if isinstance(decision, NoRoute):
            raise Refusal(200, HUB_UNKNOWN_RECEIVER, decision.reason)
        if decision.kind is RouteKind.LOCAL:
            backend = self.backends.hosting(target)
            if backend is None:
                raise Refusal(200, HUB_UNKNOWN_RECEIVER, f"{target} is hosted here without backend")
            url = await self.transport.backend_module_url(backend, request.module, interface)
            if url is None:
                raise Refusal(
                    200,
                    HUB_UNKNOWN_RECEIVER,
                    f"the backend of {target} publishes no {request.module} {interface}",
                )
            return Route(decision, url + request.path, _token_header(backend.token), None)
        connection = self.table.connection(decision.connection_id or "")
        url = connection.endpoint_url(request.module, interface) if connection else None
        if connection is None or url is None or connection.outbound_token is None:
            raise Refusal(200, HUB_CONNECTION_PROBLEM, f"connection {decision.connection_id} gone")
        header = _token_header(connection.outbound_token, connection.outbound_token_encoding)
        return Route(decision, url.rstrip("/") + request.path, header, connection.id)

    def _callback_route(self, callback: Callback) -> Route:
        if callback.backend is not None:
            decision = RouteDecision(
                RouteKind.LOCAL, None, "async result back to the requester's backend"
            )
            return Route(
                decision, callback.original_url, _token_header(callback.backend.token), None
            )
        connection = self.table.connection(callback.connection_id or "")
        if connection is None or connection.outbound_token is None:
            raise Refusal(200, HUB_CONNECTION_PROBLEM, "the requester's connection is gone")
        kind = RouteKind.DIRECT
        for route in self.table.routes_to(callback.requester):
            if route.route_key == connection.id:
                kind = RouteKind(route.kind)
        decision = RouteDecision(
            kind, connection.id, f"async result back over the {kind} connection it came from"
        )
        header = _token_header(connection.outbound_token, connection.outbound_token_encoding)
        return Route(decision, callback.original_url, header, connection.id)

    def _substitute_response_url(
        self, request: Request, route: Route, requester: PartyRef, responder: PartyRef
    ) -> tuple[bytes, str]:
        """Commands and charging profiles carry a `response_url` only the requester can reach."""
        if request.module not in ("commands", "chargingprofiles") or request.interface != (
            "RECEIVER"
        ):
            return request.body, request.query
        backend = self.backends.hosting(requester)
        callback_id = uuid.uuid4().hex
        ours = f"{self.ocpi_base}/2.2.1/callbacks/{callback_id}"
        body, query = request.body, request.query
        try:
            if request.body:
                body, original = replace_json_string_field(request.body, "response_url", ours)
            else:
                original = None
            if original is None:
                query, original = replace_query_param(request.query, "response_url", ours)
        except RewriteError as error:
            raise Refusal(400, INVALID_PARAMETERS, f"cannot relay response_url: {error}") from None
        if original is None:
            return request.body, request.query
        self.callbacks.entries[callback_id] = Callback(
            original_url=original,
            module=request.module,
            backend=backend,
            connection_id=None,
            requester=requester,
            responder=responder,
            expires_at=time.monotonic() + CALLBACK_TTL_S,
        )
        return body, query

    async def _refuse(self, message: RoutedMessage, refusal: Refusal, request: Request) -> Answer:
        message.refuse(refusal.http_status, refusal.ocpi_status, refusal.reason)
        return await self._answer_ourselves(message, refusal, _bodies(request.body))

    async def _deliver(
        self,
        message: RoutedMessage,
        route: Route,
        request: Request,
        headers: dict[str, str],
        body: bytes,
        query: str,
        from_party: PartyRef,
        to_party: PartyRef,
    ) -> Answer:
        leg_request_id = str(uuid.uuid4())
        outgoing = forward_request_headers(
            headers,
            leg_request_id,
            message.correlation_id,
            route.token_header,
            headers.get("content-type") or ("application/json" if body else None),
        )
        sent = Body.of(body) if body else None
        message.forward(
            leg=0,
            target_party=str(to_party),
            target_connection_id=route.connection_id,
            url=route.url,
            request_id=leg_request_id,
            headers=sanitize_for_ledger(outgoing),
            body_sha256=sent.sha256 if sent else None,
            body_size=sent.size if sent else 0,
        )
        # Recorded before it leaves: a message the ledger cannot hold is not forwarded.
        await self.recorder.record(message, bodies=[*_bodies(request.body), *_bodies(body)])
        started = time.monotonic()
        try:
            answer = await self.transport.call(request.method, route.url, query, outgoing, body)
        except DeliveryFailed as failure:
            latency = (time.monotonic() - started) * 1000
            status = HUB_TIMEOUT if failure.timed_out else HUB_CONNECTION_PROBLEM
            message.record_failure(0, status, str(failure), latency)
            refusal = Refusal(200, status, f"{route.decision.kind} delivery failed: {failure}")
            return await self._answer_ourselves(message, refusal, [])
        latency = (time.monotonic() - started) * 1000
        reply = Body.of(answer.body) if answer.body else None
        message.record_answer(
            0,
            answer.http_status,
            answer.ocpi_status,
            latency,
            sanitize_for_ledger(answer.headers),
            reply.sha256 if reply else None,
            reply.size if reply else 0,
        )
        relayed = relay_response_headers(
            answer.headers, message.request_id, message.correlation_id, from_party, to_party
        )
        message.respond(
            answer.http_status,
            answer.ocpi_status,
            latency,
            relayed,
            reply.sha256 if reply else None,
            reply.size if reply else 0,
        )
        await self.recorder.record(message, bodies=_bodies(answer.body))
        return Answer(answer.http_status, relayed, answer.body, route.decision)

    async def _answer_ourselves(
        self, message: RoutedMessage, refusal: Refusal, bodies: list[Body]
    ) -> Answer:
        body = json.dumps(
            {
                "status_code": refusal.ocpi_status,
                "status_message": refusal.reason,
                "timestamp": _now(),
            }
        ).encode()
        message.respond(refusal.http_status, refusal.ocpi_status, 0.0, {}, None, len(body))
        await self.recorder.record(message, bodies=bodies)
        headers = {
            "content-type": "application/json",
            "x-request-id": message.request_id,
            "x-correlation-id": message.correlation_id,
        }
        return Answer(refusal.http_status, headers, body)


def _token_header(token: str, encoding: str = "base64") -> str:
    if encoding == "raw":
        return f"Token {token}"
    return f"Token {base64.b64encode(token.encode()).decode()}"


def _bodies(data: bytes) -> list[Body]:
    return [Body.of(data)] if data else []


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
