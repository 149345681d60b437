"""Hub routing of functional-module traffic: classify, choose, record, deliver, record.

One `RoutingService.handle` call per inbound request. The order never changes: nothing is
forwarded before the ledger holds the request, its routing decision and each forwarded leg
(Received, Routed, Forwarded); the outcome (Answered/Failed per leg, Responded) follows,
written behind the answer (queued before it, committed in the next group commit). If the
ledger cannot record, `LedgerUnavailableError` is raised and nothing is forwarded.

Hot path: routing decisions read the in-memory routing table and owner index; each request
creates one `RoutedMessage`, triggers its steps on that object and hands the new events to the
group committer (an awaitable, so the event loop never blocks on the database). Blocking store
calls (links, hub objects, owner facts) run in worker threads.

Decisions (digest §9 AMBIG):
* Several routes to one party: CONNECTED direct/local routes beat hub routes; among equals the
  lowest route key wins (stable). The reason is recorded in Routed.
* Receiver known but lacking the module/interface endpoint (AMBIG 5): 4001 with the reason.
* Pagination `Link` (AMBIG 2): query-preserving. The hub's URL is its own endpoint of the same
  module and interface with the receiver's query string; following it with the same OCPI-to
  headers reaches the same receiver with the same query. Stateless, and keeps non-standard
  cursor parameters.
* Broadcast: the originator is answered as soon as the fan-out is recorded; legs run
  concurrently afterwards, their answers and failures are recorded and never reach the
  originator (digest §2.5).
* GET All of sessions or cdrs: refused (2001): the hub never holds party-specific data.
* GET All and the owner's Receiver GETs answer from the hub object store, a projection of the
  ledger (application.hub_objects): a read first waits until it holds the pushes this node
  recorded (read-your-writes).
* A retried X-Request-ID from the same connection becomes attempt n+1 pointing at the first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from eventsourcing.persistence import IntegrityError

from application.bodies import Body
from application.callbacks import (
    CALLBACK,
    CDR_LOCATION,
    HubLink,
    LinkStore,
    callback_expiry,
    callback_id,
    callback_url,
    cdr_location_url,
    expiry_after_answer,
    new_link_id,
)
from application.delivery import (
    LOCAL_ROUTE,
    Delivered,
    Deliverer,
    Delivery,
    DeliveryFailed,
    DeliveryOutcome,
    Target,
    connection_target,
)
from application.endpoints import ROLE_INTERFACES
from application.errors import LedgerUnavailableError
from application.hub_store import HubObjectStore, object_key
from application.local_backends import LocalBackends
from application.owner_index import InMemoryOwnerIndex, OwnerFactStore, fact_of
from application.rate_limits import RateLimiter
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain import headers as h
from domain.connections import Leniency
from domain.errors import InvalidHeaderError, InvalidOperationError, RewriteError
from domain.hub_objects import normalise_datetime
from domain.messages import RoutedMessage, message_id
from domain.operations import Operation, OperationKind, parse_operation
from domain.rewriting import (
    replace_json_string_field,
    replace_query_param,
    rewrite_link_header,
    rewrite_location_header,
)
from domain.route_choice import (
    NoRoute,
    PolicyRule,
    RouteCandidate,
    choose_route,
    policy_for,
    worse_status,
)
from domain.routing import (
    BROADCASTABLE,
    NEVER_BROADCAST,
    BroadcastCandidate,
    RouteClass,
    broadcast_audience,
    broadcast_sender_role,
    classify,
    resolve_open_routing,
)
from domain.routing import RouteClassKind as RouteKind
from domain.status_codes import ClientError, HubError
from domain.values import (
    OCPI_VERSION,
    AnyModuleId,
    ConnectionStatus,
    CustomModuleId,
    InterfaceRole,
    ModuleId,
    PartyKey,
    PartyRef,
    Role,
    Way,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRY_ATTEMPTS = 100
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_IN_THREAD = 1024 * 1024
_STATUS_CODE = re.compile(rb'"status_code"\s*:\s*(\d{4})')


_HEADER_NAMES = {h.X_REQUEST_ID: "X-Request-ID", h.X_CORRELATION_ID: "X-Correlation-ID"}

NOT_RECORDED = "the message ledger cannot record right now; nothing was forwarded, retry shortly"
NOT_SENT = "not sent: the ledger confirmed the record only after the requester had been refused"


class MessageRecorder(Protocol):
    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int: ...

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None: ...


Blocking = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class RoutingConfig:
    hub: PartyRef | None
    """The hub's own party; None on a platform node (nothing is addressed to it there)."""
    base_url: str
    """The node's public base URL (without /ocpi): callback, CDR and Link URLs start with it."""
    hub_error_http_status: int = 200
    get_all_max_limit: int = 100
    policy: tuple[PolicyRule, ...] = ()
    """Route policy of a platform node (direct | hub | auto per counterpart and module)."""


@dataclass(frozen=True)
class InboundRequest:
    connection: ConnectionEntry
    module: str
    interface: str
    method: str
    path: str
    """Raw path after the hub's endpoint URL, '' or starting with '/'."""
    query: str
    """Raw query string without '?'."""
    headers: Mapping[str, str]
    body: bytes = b""
    sender_parties: tuple[PartyKey, ...] | None = None
    """The parties the caller may speak for when it is not a connection (a local backend)."""
    repeats: str | None = None
    """The recorded message an operator sends again (a re-drive); recorded as `retry_of`."""


@dataclass(frozen=True)
class Answer:
    http_status: int
    headers: dict[str, str]
    body: bytes
    via: str | None = None
    """local | direct | hub when the request was forwarded to one target; with `reason`."""
    reason: str = ""


@dataclass
class _Exchange:
    """One inbound request while it is being handled: what the ledger will hold about it."""

    request: InboundRequest
    request_id: str
    correlation_id: str
    started: float
    headers: dict[str, str]
    path: str = ""
    """The path routed by: as received, or as read leniently (see `adjustments`)."""
    adjustments: list[str] = field(default_factory=list)
    """What the hub read into a sloppy request (recorded on Received)."""
    from_party: PartyRef | None = None
    """The sender: OCPI-from, or the party classification inferred (`sender_inferred`)."""
    to_party: PartyRef | None = None
    sender_inferred: bool = False
    steps: list[Callable[[RoutedMessage], None]] = field(default_factory=list)
    bodies: list[Body] = field(default_factory=list)
    message: RoutedMessage | None = None
    position: int = 0
    """The ledger position that holds what `_admit` recorded."""
    unrecorded: Answer | None = None
    """The 503 the requester gets when `_admit` could not record."""

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass(frozen=True)
class _Leg:
    index: int
    target: Target
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class RouteExplanation:
    """Where a message would go now (`routed`), or the hub error it would get, and why."""

    party: str
    module: str
    interface: str
    routed: bool
    reason: str
    via: str | None = None
    """local | direct | hub"""
    connection_id: str | None = None
    endpoint_url: str | None = None
    status_code: int | None = None
    """The hub error (4001, 4003) when it would not be routed."""


@dataclass(frozen=True)
class BroadcastExplanation:
    """Who a broadcast push would reach now (empty with the reason when nobody would)."""

    sender: str
    module: str
    role: str | None
    receivers: list[dict[str, str | None]]
    reason: str


@dataclass(frozen=True)
class _NoRoute:
    status_code: HubError
    reason: str


class RoutingService:
    def __init__(
        self,
        config: RoutingConfig,
        table: InMemoryRoutingTable,
        recorder: MessageRecorder,
        deliverer: Deliverer,
        links: LinkStore,
        objects: HubObjectStore,
        owners: InMemoryOwnerIndex,
        owner_facts: OwnerFactStore,
        blocking: Blocking = asyncio.to_thread,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
        backends: LocalBackends | None = None,
    ) -> None:
        self.config = config
        self.limiter = limiter
        self.table = table
        self.recorder = recorder
        self.deliverer = deliverer
        self.links = links
        self.objects = objects
        self.owners = owners
        self.owner_facts = owner_facts
        self._blocking = blocking
        self._now = now
        self.backends = backends or LocalBackends()
        self._background: set[asyncio.Task[None]] = set()

    # ---- entry point -------------------------------------------------------------------------

    async def handle(self, request: InboundRequest) -> Answer:
        exchange, problem = self._open(request)
        return await self._settle(exchange, self._classify(exchange, problem))

    async def refuse(
        self, request: InboundRequest, status_code: int, reason: str, http_status: int
    ) -> Answer:
        """Refuse, on record, a request that cannot even be routed (no such endpoint, a method
        OCPI does not use there, a body over the limit): the caller finds it like any other."""
        exchange, _ = self._open(request)
        return await self._settle(
            exchange, self._refuse(exchange, status_code, reason, http_status=http_status)
        )

    def _open(self, request: InboundRequest) -> tuple[_Exchange, str | None]:
        """The exchange of one request, and why it must be refused before routing, if so."""
        problem: str | None = None
        try:
            headers = h.collect_headers(request.headers.items())
        except InvalidHeaderError as error:
            # Refused on record: the first value of each name identifies the request.
            problem = str(error)
            headers = {}
            for name, value in request.headers.items():
                headers.setdefault(name.lower(), value)
        exchange = _Exchange(
            request=request,
            request_id=headers.get(h.X_REQUEST_ID) or str(uuid.uuid4()),
            correlation_id=headers.get(h.X_CORRELATION_ID) or str(uuid.uuid4()),
            started=time.perf_counter(),
            headers=headers,
            path=request.path,
        )
        if request.body:
            content_type = headers.get(h.CONTENT_TYPE) or h.JSON
            exchange.bodies.append(Body.of(request.body, content_type))
        return exchange, problem or self._lenient(exchange)

    def _lenient(self, exchange: _Exchange) -> str | None:
        """Take what sloppy peer software sends where its meaning is unambiguous, noting each
        decision for the ledger; a strict connection gets the refusal reason instead."""
        request, headers = exchange.request, exchange.headers
        strict = request.connection.leniency is Leniency.STRICT
        missing = [name for name in (h.X_REQUEST_ID, h.X_CORRELATION_ID) if not headers.get(name)]
        if missing:
            names = " and ".join(_HEADER_NAMES[name] for name in missing)
            if strict:
                return f"{names} required: this connection is strict"
            exchange.adjustments.append(f"{names} generated by the hub: the request had none")
        if exchange.path and not exchange.path.startswith("/"):
            if strict:
                return (
                    f"no such endpoint: the path after the {request.module} {request.interface}"
                    f" endpoint must start with '/', got {exchange.path!r}; this connection is"
                    " strict"
                )
            exchange.adjustments.append(
                f"path {exchange.path!r} read as '/{exchange.path}': the endpoint URL and the"
                " rest were joined without '/'"
            )
            exchange.path = "/" + exchange.path
        return None

    async def _settle(self, exchange: _Exchange, work: Awaitable[Answer]) -> Answer:
        try:
            return await work
        except LedgerUnavailableError:
            if exchange.unrecorded is None:
                raise
            return exchange.unrecorded
        except Exception as error:
            # A fault of our own: never a bare 500, and the ledger says what became of it.
            log.exception("handling %s failed", exchange.request_id)
            return await self._fault_answer(exchange, error)

    async def _classify(self, exchange: _Exchange, problem: str | None) -> Answer:
        request, headers = exchange.request, exchange.headers
        if problem is not None:
            return await self._refuse(exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, problem)
        try:
            exchange.from_party, exchange.to_party = h.routing_headers(headers)
        except InvalidHeaderError as error:
            return await self._refuse(exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, error)
        if self.limiter is not None:
            limited = await self._rate_limited(exchange)
            if limited is not None:
                return limited
        try:
            operation = parse_operation(
                request.module,
                InterfaceRole(request.interface),
                request.method,
                exchange.path,
                request.query,
            )
        except (InvalidOperationError, ValueError) as error:
            return await self._refuse(exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, error)
        if operation.kind is OperationKind.CUSTOM and self.config.hub is not None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"this node is a hub and does not route custom module {operation.module}:"
                " custom modules are routed between platforms directly, never via a hub",
                http_status=404,
            )
        if request.body and request.method in _BODY_METHODS:
            problem = await self._json_problem(request.body)
            if problem is not None:
                return await self._refuse(
                    exchange,
                    ClientError.INVALID_OR_MISSING_PARAMETERS,
                    f"body is not valid JSON: {problem}",
                    http_status=400,
                )
        sender_parties = (
            list(request.sender_parties)
            if request.sender_parties is not None
            else self.table.parties_on_connection(request.connection.id)
        )
        route_class = classify(
            operation,
            exchange.from_party,
            exchange.to_party,
            self.config.hub,
            sender_parties,
            request.connection.leniency,
        )
        if exchange.from_party is None and route_class.from_party is not None:
            # Every later step (relay, response_url, Link, Location, the ledger) speaks of the
            # sender classification inferred from the calling connection's only party.
            exchange.from_party = route_class.from_party
            exchange.sender_inferred = True
        if route_class.refusal is not None:
            refusal = route_class.refusal
            return await self._refuse(exchange, refusal.status_code, refusal.message)
        return await self._route(exchange, operation, route_class, sender_parties)

    async def _route(
        self,
        exchange: _Exchange,
        operation: Operation,
        route_class: RouteClass,
        sender_parties: list[PartyKey],
    ) -> Answer:
        kind = route_class.kind
        if operation.kind is OperationKind.CALLBACK_RESULT:
            return await self._callback(exchange, operation, route_class)
        if (
            operation.module is ModuleId.CDRS
            and operation.kind is OperationKind.PULL_OBJECT
            and kind in (RouteKind.DIRECT, RouteKind.OPEN_ROUTING)
        ):
            return await self._cdr_get(exchange, operation, route_class)
        if kind is RouteKind.BROADCAST:
            return await self._broadcast(exchange, operation, route_class, sender_parties)
        if kind is RouteKind.GET_ALL:
            return await self._get_all(exchange, operation, route_class)
        if kind is RouteKind.HUB_RECEIVER_GET:
            return await self._hub_receiver_get(exchange, operation, route_class)
        to_party = route_class.to_party
        if kind is RouteKind.OPEN_ROUTING:
            to_party = resolve_open_routing(operation, exchange.request.body, self.owners)
            relay = self._broadcast_via_hub(operation) if to_party is None else None
            if relay is not None:
                return await self._forward(exchange, operation, route_class, *relay)
            if to_party is None:
                return await self._refuse(
                    exchange,
                    HubError.UNKNOWN_RECEIVER,
                    "open routing found no receiver: the hub does not know who owns what this"
                    " request names; set OCPI-to headers",
                    route_class=route_class,
                )
        assert to_party is not None
        chosen = self._choose(to_party, operation.module, operation.interface)
        if isinstance(chosen, _NoRoute):
            return await self._refuse(
                exchange, chosen.status_code, chosen.reason, route_class=route_class
            )
        target, reason = chosen
        if kind is RouteKind.OPEN_ROUTING:
            reason = f"open routing resolved {to_party} from the request; {reason}"
        return await self._forward(exchange, operation, route_class, target, reason)

    # ---- direct and open routing ---------------------------------------------------------

    async def _forward(
        self,
        exchange: _Exchange,
        operation: Operation,
        route_class: RouteClass,
        target: Target,
        reason: str,
        url: str | None = None,
    ) -> Answer:
        request = exchange.request
        body, query = request.body, request.query
        link: HubLink | None = None
        if operation.kind in (OperationKind.COMMAND, OperationKind.CHARGING_PROFILE):
            try:
                body, query, link = self._replace_response_url(exchange, operation, target)
            except RewriteError as error:
                return await self._refuse(
                    exchange,
                    ClientError.INVALID_OR_MISSING_PARAMETERS,
                    f"response_url cannot be replaced: {error}",
                    route_class=route_class,
                )
        url = url or target.url(operation.path, query)
        leg = self._leg(exchange, 0, target, url, body, route_class, open_to=target.party)
        if body is not request.body and body:
            exchange.bodies.append(Body.of(body, exchange.headers.get(h.CONTENT_TYPE) or h.JSON))
        kind = str(route_class.kind)
        via = target.kind
        exchange.steps.append(lambda m: m.route(kind, [str(target.party)], reason, via))
        exchange.steps.append(lambda m: self._forward_step(m, leg))
        if link is not None:
            await self._store(self.links.put, link)
        await self._admit(exchange)
        fact = fact_of(operation)
        if fact is not None and self.owners.learn(fact):
            # Known at once for open routing; kept in the store behind, off the answer's path.
            self._spawn(self._keep_fact(fact))
        outcome = await self._deliver(
            Delivery(leg.target, request.method, leg.url, leg.headers, leg.body)
        )
        # Forwarded: from here on nothing of ours may keep the receiver's answer from the
        # requester or its outcome from the ledger (a failed step degrades, it never raises).
        answer = await self._conclude(exchange, operation, target, outcome, link)
        return replace(answer, via=via, reason=reason)

    async def _deliver(self, delivery: Delivery) -> DeliveryOutcome:
        try:
            return await self.deliverer.deliver(delivery)
        except Exception as error:
            # A deliverer reports network trouble itself; anything else is a fault of ours,
            # and whether the receiver got the request is unknown: say so.
            log.exception("delivering to %s failed", delivery.url)
            return DeliveryFailed(
                HubError.GENERIC, f"forwarding failed inside the hub ({_describe(error)})", 0.0
            )

    async def _conclude(
        self,
        exchange: _Exchange,
        operation: Operation,
        target: Target,
        outcome: DeliveryOutcome,
        link: HubLink | None,
    ) -> Answer:
        message = exchange.message
        assert message is not None
        if isinstance(outcome, DeliveryFailed):
            _safely(
                message.record_failure,
                0,
                int(outcome.status_code),
                outcome.reason,
                outcome.latency_ms,
            )
            answer = self._hub_answer(exchange, outcome.status_code, outcome.reason)
            return await self._finish(exchange, answer, [])
        notes = []
        try:
            answer = await self._relay(exchange, operation, target, outcome)
        except Exception as error:
            log.exception("relaying the answer to %s failed", exchange.request_id)
            notes.append(f"answer relayed without rewritten Link/Location: {_describe(error)}")
            answer = self._plain_relay(exchange, target, outcome)
        if link is not None:
            try:
                await self._extend_callback(link, outcome)
            except Exception as error:
                notes.append(f"callback link {link.id} kept its first expiry: {_describe(error)}")
        body_record = Body.of(outcome.body, outcome.headers.get(h.CONTENT_TYPE) or h.JSON)
        _safely(
            message.record_answer,
            0,
            outcome.http_status,
            ocpi_status_of(outcome.body),
            outcome.latency_ms,
            h.sanitize_for_ledger(outcome.headers),
            body_record.sha256 if outcome.body else None,
            len(outcome.body),
            _redirect_note(outcome),
        )
        return await self._finish(
            exchange, answer, [body_record] if outcome.body else [], note="; ".join(notes) or None
        )

    def _plain_relay(self, exchange: _Exchange, target: Target, outcome: Delivered) -> Answer:
        """The receiver's answer with only the headers that need no rewriting: what the
        requester gets when rewriting Link or Location failed (their upstream URLs are never
        relayed)."""
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=target.party,
        )
        content_type = outcome.headers.get(h.CONTENT_TYPE)
        if content_type:
            headers[h.CONTENT_TYPE] = content_type
        return Answer(outcome.http_status, headers, outcome.body)

    async def _fault_answer(self, exchange: _Exchange, error: Exception) -> Answer:
        """Answer 3000 for a fault of our own and record it: refused if nothing was admitted
        yet, else the open legs failed (the receiver may or may not have the request)."""
        reason = f"the hub failed to handle this request ({_describe(error)})"
        answer = self._hub_answer(exchange, HubError.GENERIC, reason)
        message = exchange.message
        try:
            if message is None:
                exchange.steps = [lambda m: m.refuse(answer.http_status, 3000, reason)]
                exchange.bodies = exchange.bodies[:1] if exchange.request.body else []
                self._respond_step(exchange, answer)
                await self._admit(exchange)
                return answer
            for leg, state in message.legs.items():
                if state["outcome"] is None:
                    message.record_failure(leg, int(HubError.GENERIC), reason, 0.0)
            return await self._finish(exchange, answer, [])
        except Exception:
            log.exception("recording the fault of %s failed", exchange.request_id)
            return answer

    def _replace_response_url(
        self, exchange: _Exchange, operation: Operation, target: Target
    ) -> tuple[bytes, str, HubLink]:
        request = exchange.request
        link_id = new_link_id()
        hub_url = callback_url(self.config.base_url, operation.module, link_id)
        body, query = request.body, request.query
        if operation.kind is OperationKind.CHARGING_PROFILE and request.method != "PUT":
            query, original = replace_query_param(query, "response_url", hub_url)
        else:
            body, original = replace_json_string_field(body, "response_url", hub_url)
        if not original:
            raise RewriteError("response_url is missing")
        now = self._now()
        assert exchange.from_party is not None
        link = HubLink(
            id=link_id,
            kind=CALLBACK,
            module=str(operation.module),
            original_url=original,
            requester_connection_id=request.connection.id,
            requester_party=exchange.from_party,
            receiver_party=target.party,
            correlation_id=exchange.correlation_id,
            created_at=now,
            expires_at=callback_expiry(now, operation.command, request.body),
        )
        return body, query, link

    def _leg(
        self,
        exchange: _Exchange,
        index: int,
        target: Target,
        url: str,
        body: bytes,
        route_class: RouteClass,
        *,
        open_to: PartyRef | None = None,
        broadcast: bool = False,
    ) -> _Leg:
        content_type = (exchange.headers.get(h.CONTENT_TYPE) or h.JSON) if body else None
        authorization = target.authorization() or ""
        request_id = str(uuid.uuid4())
        if broadcast:
            headers = h.broadcast_leg_headers(
                exchange.headers,
                request_id,
                exchange.correlation_id,
                authorization,
                content_type,
                hub=self.config.hub,
                target=target.party,
            )
        else:
            # FROM and TO travel unchanged; only an inferred FROM or an open-routed (or
            # callback) TO is filled in.
            headers = h.forward_request_headers(
                exchange.headers,
                request_id,
                exchange.correlation_id,
                authorization,
                content_type,
                from_party=exchange.from_party if exchange.sender_inferred else None,
                to_party=open_to if exchange.to_party != open_to else None,
            )
        if not authorization:
            headers.pop(h.AUTHORIZATION, None)
        return _Leg(index, target, url, headers, body)

    def _forward_step(self, message: RoutedMessage, leg: _Leg) -> None:
        body = Body.of(leg.body) if leg.body else None
        message.forward(
            leg.index,
            str(leg.target.party),
            leg.target.connection_id,
            leg.url,
            leg.headers[h.X_REQUEST_ID],
            h.sanitize_for_ledger(leg.headers),
            body.sha256 if body else None,
            len(leg.body),
        )

    async def _relay(
        self,
        exchange: _Exchange,
        operation: Operation,
        target: Target,
        outcome: Delivered,
    ) -> Answer:
        assert exchange.from_party is not None
        headers = h.relay_response_headers(
            outcome.headers,
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            responder=target.party,
        )
        if h.LINK in headers:
            endpoint = self._hub_endpoint(operation.module, operation.interface)
            headers[h.LINK] = rewrite_link_header(
                headers[h.LINK], lambda upstream: _with_query(endpoint, upstream)
            )
        if h.LOCATION in headers and operation.kind is OperationKind.CDR_POST:
            headers[h.LOCATION] = await self._map_cdr_location(
                exchange, target, headers[h.LOCATION]
            )
        return Answer(outcome.http_status, headers, outcome.body)

    async def _extend_callback(self, link: HubLink, outcome: Delivered) -> None:
        """A receiver that announces a longer timeout keeps the callback link open longer."""
        if 200 <= outcome.http_status < 300:
            expiry = expiry_after_answer(self._now(), outcome.body)
            if expiry is not None and link.expires_at is not None and expiry > link.expires_at:
                await self._store(self.links.extend, link.id, expiry)

    async def _map_cdr_location(self, exchange: _Exchange, target: Target, value: str) -> str:
        assert exchange.from_party is not None
        link_id = new_link_id()
        original: list[str] = []

        def make_url(upstream: str) -> str:
            original.append(upstream)
            return cdr_location_url(self.config.base_url, link_id)

        try:
            rewritten = rewrite_location_header(value, make_url)
        except RewriteError:
            return value
        link = HubLink(
            id=link_id,
            kind=CDR_LOCATION,
            module=str(ModuleId.CDRS),
            original_url=original[0],
            requester_connection_id=exchange.request.connection.id,
            requester_party=exchange.from_party,
            receiver_party=target.party,
            correlation_id=exchange.correlation_id,
            created_at=self._now(),
            expires_at=None,
        )
        await self._store(self.links.put, link)
        return rewritten

    async def _callback(
        self, exchange: _Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        link_id = callback_id(operation.callback_path)
        link = await self._store(self.links.get, link_id) if link_id else None
        sender = route_class.from_party
        if (
            link is None
            or link.kind != CALLBACK
            or link.module != str(operation.module)
            or link.expired(self._now())
            or link.receiver_party != sender
        ):
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                "unknown or expired callback URL, or not issued to this party",
                http_status=404,
                route_class=route_class,
            )
        if route_class.to_party not in (None, link.requester_party):
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"this callback is for {link.requester_party}, not {route_class.to_party}",
                route_class=route_class,
            )
        target = self._link_target(link)
        if isinstance(target, _NoRoute):
            return await self._refuse(
                exchange, target.status_code, target.reason, route_class=route_class
            )
        reason = f"callback {link.id} of {link.correlation_id} back to {link.requester_party}"
        return await self._forward(
            exchange, operation, route_class, target, reason, url=link.original_url
        )

    def _link_target(self, link: HubLink) -> Target | _NoRoute:
        party = link.requester_party
        if link.requester_connection_id == LOCAL_ROUTE:
            local = self.backends.callback_target(party, link.original_url)
            if local is None:
                return _NoRoute(HubError.CONNECTION_PROBLEM, f"{party} is no longer hosted here")
            return local
        connection = self.table.connection(link.requester_connection_id)
        if (
            connection is None
            or connection.status is not ConnectionStatus.CONNECTED
            or connection.outbound_token is None
        ):
            return _NoRoute(HubError.CONNECTION_PROBLEM, f"{party} is not connected")
        return Target(
            party=party,
            route_key=connection.id,
            # a platform relays the result to a hub it reached the requester through
            kind="hub" if any(r.role is Role.HUB for r in connection.roles) else "direct",
            endpoint_url=link.original_url,
            token=connection.outbound_token,
            token_encoding=connection.outbound_token_encoding,
        )

    async def _cdr_get(
        self, exchange: _Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        link = await self._store(self.links.get, operation.cdr_id or "")
        if (
            link is None
            or link.kind != CDR_LOCATION
            or link.requester_party != route_class.from_party
            or route_class.to_party not in (None, link.receiver_party)
        ):
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                "unknown CDR location, or not one this party posted to OCPI-to",
                http_status=404,
                route_class=route_class,
            )
        chosen = self._choose(link.receiver_party, operation.module, operation.interface)
        if isinstance(chosen, _NoRoute):
            return await self._refuse(
                exchange, chosen.status_code, chosen.reason, route_class=route_class
            )
        target, reason = chosen
        reason = f"CDR location {link.id}; {reason}"
        return await self._forward(
            exchange, operation, route_class, target, reason, url=link.original_url
        )

    # ---- route choice ------------------------------------------------------------------------

    def explain_route(
        self, party: PartyRef, module: AnyModuleId, interface: InterfaceRole
    ) -> RouteExplanation:
        """What a message to `party` for this module interface would do now, and why: the
        same choice `handle` makes, without recording or sending anything (no token shown)."""
        chosen = self._choose(party, module, interface)
        if isinstance(chosen, _NoRoute):
            return RouteExplanation(
                party=str(party),
                module=str(module),
                interface=str(interface),
                routed=False,
                reason=chosen.reason,
                status_code=int(chosen.status_code),
            )
        target, reason = chosen
        return RouteExplanation(
            party=str(party),
            module=str(module),
            interface=str(interface),
            routed=True,
            reason=reason,
            via=target.kind,
            connection_id=target.connection_id,
            endpoint_url=target.endpoint_url,
        )

    def explain_broadcast(self, sender: PartyRef, module: ModuleId) -> BroadcastExplanation:
        """Who a broadcast push of `module` from `sender` would reach now, and why; as
        `_broadcast` decides it, without recording or sending anything."""
        if module not in BROADCASTABLE:
            return BroadcastExplanation(
                str(sender), str(module), None, [], f"{module} is never broadcast"
            )
        connections = sorted(
            {
                r.route_key
                for r in self.table.routes_to(sender)
                if r.kind in (Way.DIRECT, LOCAL_ROUTE)
            }
        )
        if not connections:
            return BroadcastExplanation(
                str(sender), str(module), None, [], f"{sender} is not registered here"
            )
        sender_connection = connections[0]
        role = broadcast_sender_role(
            module, sender, self.table.parties_on_connection(sender_connection)
        )
        if role is None:
            reason = f"{sender} holds several roles and none owns {module}"
            return BroadcastExplanation(str(sender), str(module), None, [], reason)
        receivers = [
            {
                "party": str(target.party),
                "via": target.kind,
                "connection_id": target.connection_id,
                "endpoint_url": target.endpoint_url,
            }
            for target in self._broadcast_targets(role, module, sender, sender_connection)
        ]
        reason = (
            f"broadcast from {sender} as {role} to {len(receivers)} receiver(s): CONNECTED "
            f"parties of the audience roles whose platform offers the {module} RECEIVER "
            "interface, not on the sender's own connection"
        )
        return BroadcastExplanation(str(sender), str(module), str(role), receivers, reason)

    def _choose(
        self, party: PartyRef, module: AnyModuleId, interface: InterfaceRole
    ) -> tuple[Target, str] | _NoRoute:
        """Route choice (domain/route_choice.py): hosted here, else a CONNECTED direct
        connection offering the endpoint, else a hub that lists the party; policy may force
        direct or hub. The reason names the alternatives that were passed over."""
        routes = self.table.routes_to(party)
        candidates: list[RouteCandidate] = []
        targets: dict[str | None, Target] = {}
        local_problem = ""
        for route in sorted(routes, key=lambda r: r.route_key):
            if route.kind == LOCAL_ROUTE:
                found = self.backends.target(party, route.backend_url, module, interface)
                if isinstance(found, Target):
                    targets[None] = found
                    candidates.append(RouteCandidate(Way.LOCAL, None, route.status, True))
                else:
                    local_problem = found
                continue
            connection = self.table.connection(route.route_key)
            if connection is None or route.kind not in (Way.DIRECT, Way.HUB):
                continue
            target = connection_target(party, route, connection, module, interface)
            if target is not None:
                targets[connection.id] = target
            candidates.append(
                RouteCandidate(
                    Way(route.kind),
                    connection.id,
                    worse_status(route.status, connection.status),
                    target is not None,
                    connection.label,
                )
            )
        if local_problem:
            return _NoRoute(HubError.UNKNOWN_RECEIVER, local_problem)
        policy = policy_for(self.config.policy, party, str(module))
        decision = choose_route(party, str(module), str(interface), candidates, policy)
        if isinstance(decision, NoRoute):
            if not candidates or isinstance(module, CustomModuleId):
                return _NoRoute(HubError.UNKNOWN_RECEIVER, decision.reason)
            if all(c.status is ConnectionStatus.CONNECTED for c in candidates):
                return _NoRoute(
                    HubError.UNKNOWN_RECEIVER,
                    f"{party} does not implement the {module} {interface} interface"
                    f" on any usable route: {decision.reason}",
                )
            return _NoRoute(
                HubError.CONNECTION_PROBLEM, f"{party} is not connected: {decision.reason}"
            )
        return targets[decision.connection_id], decision.reason

    def _broadcast_via_hub(self, operation: Operation) -> tuple[Target, str] | None:
        """On a platform, a push of a broadcastable module without OCPI-to whose owner nobody
        here knows goes to a CONNECTED hub addressed to the hub itself: a broadcast there."""
        if (
            self.config.hub is not None
            or operation.kind is not OperationKind.PUSH
            or operation.module not in BROADCASTABLE
        ):
            return None
        for connection in sorted(self.table.connections(), key=lambda c: c.id):
            hub = next((r.ref for r in connection.roles if r.role is Role.HUB), None)
            if hub is None or connection.status is not ConnectionStatus.CONNECTED:
                continue
            found = connection_target(hub, None, connection, operation.module, operation.interface)
            if found is not None:
                reason = (
                    f"no OCPI-to and no known receiver: broadcast via hub connection"
                    f" {connection.label or connection.id}, addressed to {hub}"
                )
                return replace(found, kind="hub"), reason
        return None

    def _hub_endpoint(self, module: ModuleId, interface: InterfaceRole) -> str:
        return f"{self.config.base_url}/ocpi/{OCPI_VERSION}/{module}/{str(interface).lower()}"

    # ---- broadcast ---------------------------------------------------------------------------

    async def _broadcast(
        self,
        exchange: _Exchange,
        operation: Operation,
        route_class: RouteClass,
        sender_parties: list[PartyKey],
    ) -> Answer:
        request = exchange.request
        from_party = route_class.from_party
        assert from_party is not None
        role = broadcast_sender_role(operation.module, from_party, sender_parties)
        if role is None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"{from_party} holds several roles and none owns {operation.module}",
                route_class=route_class,
            )
        targets = self._broadcast_targets(role, operation.module, from_party, request.connection.id)
        legs: list[_Leg] = []
        for target in targets:
            url = target.url(operation.path, request.query)
            leg = self._leg(
                exchange, len(legs), target, url, request.body, route_class, broadcast=True
            )
            legs.append(leg)
        parties = [str(leg.target.party) for leg in legs]
        reason = f"broadcast from {from_party} as {role} to {len(legs)} receiver(s)"
        if route_class.note:
            reason = f"{route_class.note}; {reason}"
        exchange.steps.append(lambda m: m.route(str(RouteKind.BROADCAST), parties, reason))
        for leg in legs:
            exchange.steps.append(lambda m, leg=leg: self._forward_step(m, leg))
        answer = self._ok_answer(exchange, None, f"broadcast to {len(legs)} receiver(s)")
        self._respond_step(exchange, answer)
        await self._admit(exchange)
        # The hub's copy of the object is a projection of the ledger (application.hub_objects):
        # this push is in it once the projection passes its position, and reads wait for that.
        self.objects.pushed(exchange.position)
        await self._learn(fact_of(operation))
        if legs:
            self._spawn(self._fan_out(exchange, legs))
        return answer

    def _broadcast_targets(
        self, role: Role, module: ModuleId, sender: PartyRef, sender_connection: str
    ) -> list[Target]:
        """Where a broadcast push from `sender` (in `role`, on `sender_connection`) goes."""
        audience = broadcast_audience(
            role,
            module,
            self._broadcast_candidates(),
            sender=sender,
            sender_connection_id=sender_connection,
        )
        targets = (self._candidate_target(candidate, module) for candidate in audience)
        return [target for target in targets if target is not None]

    def _broadcast_candidates(self) -> list[BroadcastCandidate]:
        candidates = []
        for party in self.table.parties():
            for route in party.routes.values():
                if route.kind == "local":
                    modules = frozenset(
                        m for m, i in ROLE_INTERFACES.get(party.key.role, ()) if i == "RECEIVER"
                    )
                    status = route.status if route.backend_url else ConnectionStatus.PLANNED
                    candidates.append(BroadcastCandidate(party.key, LOCAL_ROUTE, status, modules))
                    continue
                connection = self.table.connection(route.route_key)
                if connection is None:
                    continue
                modules = frozenset(
                    ModuleId(m)
                    for m, i, _ in connection.endpoints
                    if i == InterfaceRole.RECEIVER and m in _MODULE_IDS
                )
                status = (
                    route.status
                    if connection.status is ConnectionStatus.CONNECTED
                    else connection.status
                )
                candidates.append(BroadcastCandidate(party.key, route.route_key, status, modules))
        return candidates

    def _candidate_target(self, candidate: BroadcastCandidate, module: ModuleId) -> Target | None:
        party = candidate.party.ref
        if candidate.connection_id == LOCAL_ROUTE:
            for route in self.table.routes_to(party):
                if route.kind == "local":
                    found = self.backends.target(party, route.backend_url, module, "RECEIVER")
                    return found if isinstance(found, Target) else None
            return None
        connection = self.table.connection(candidate.connection_id)
        if connection is None:
            return None
        return connection_target(party, None, connection, module, InterfaceRole.RECEIVER)

    async def _fan_out(self, exchange: _Exchange, legs: list[_Leg]) -> None:
        method = exchange.request.method
        outcomes = await asyncio.gather(
            *(
                self.deliverer.deliver(Delivery(leg.target, method, leg.url, leg.headers, leg.body))
                for leg in legs
            )
        )
        message = exchange.message
        assert message is not None
        bodies: list[Body] = []
        for leg, outcome in zip(legs, outcomes, strict=True):
            if isinstance(outcome, DeliveryFailed):
                message.record_failure(
                    leg.index, int(outcome.status_code), outcome.reason, outcome.latency_ms
                )
                continue
            body = Body.of(outcome.body, outcome.headers.get(h.CONTENT_TYPE) or h.JSON)
            if outcome.body:
                bodies.append(body)
            message.record_answer(
                leg.index,
                outcome.http_status,
                ocpi_status_of(outcome.body),
                outcome.latency_ms,
                h.sanitize_for_ledger(outcome.headers),
                body.sha256 if outcome.body else None,
                len(outcome.body),
                _redirect_note(outcome),
            )
        try:
            await self.recorder.record(message, bodies=bodies)
        except Exception:
            log.exception("recording the broadcast outcomes of %s failed", exchange.request_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- answers from the hub's own store ---------------------------------------------------

    async def _get_all(
        self, exchange: _Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        if operation.module in NEVER_BROADCAST or operation.module not in _STORED_MODULES:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"the hub holds no {operation.module}: address OCPI-to to the data owner",
                route_class=route_class,
            )
        params = dict(parse_qsl(exchange.request.query, keep_blank_values=True))
        try:
            date_from = _optional_datetime(params.get("date_from"))
            date_to = _optional_datetime(params.get("date_to"))
        except InvalidOperationError as error:
            return await self._refuse(
                exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, error, route_class=route_class
            )
        maximum = self.config.get_all_max_limit
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or maximum), maximum)
        page = await self._store(
            self.objects.page, str(operation.module), date_from, date_to, offset, limit
        )
        answer = self._ok_answer(exchange, b"[" + b",".join(page.documents) + b"]")
        answer.headers[h.X_TOTAL_COUNT] = str(page.total)
        answer.headers[h.X_LIMIT] = str(maximum)
        following = offset + len(page.documents)
        if page.documents and following < page.total:
            query = urlencode({**params, "offset": str(following), "limit": str(limit)})
            endpoint = self._hub_endpoint(operation.module, operation.interface)
            answer.headers[h.LINK] = f'<{endpoint}?{query}>; rel="next"'
        reason = f"GET All answered from the hub's store: {len(page.documents)} of {page.total}"
        exchange.steps.append(lambda m: m.route(str(RouteKind.GET_ALL), [], reason))
        self._respond_step(exchange, answer)
        await self._admit(exchange)
        return answer

    async def _hub_receiver_get(
        self, exchange: _Exchange, operation: Operation, route_class: RouteClass
    ) -> Answer:
        key, sub_ids = object_key(operation)
        document = await self._store(self.objects.get, key) if key else None
        part = _sub_object(document, sub_ids) if document is not None else None
        if part is None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                "the hub holds no such object",
                http_status=404,
                route_class=route_class,
            )
        answer = self._ok_answer(exchange, part)
        reason = "the owner reads back the hub's copy"
        exchange.steps.append(lambda m: m.route(str(RouteKind.HUB_RECEIVER_GET), [], reason))
        self._respond_step(exchange, answer)
        await self._admit(exchange)
        return answer

    # ---- answers, refusals and the ledger ----------------------------------------------------

    async def _rate_limited(self, exchange: _Exchange) -> Answer | None:
        """Refuse (HTTP 429, recorded) a party over its limit for the module; None if allowed.
        Buckets are per connection and claimed party: a spoofed FROM only drains the
        spoofer's own bucket."""
        assert self.limiter is not None
        module = exchange.request.module
        party = f"{exchange.request.connection.id}/{exchange.from_party}"
        decision = self.limiter.check(party, module)
        if decision.allowed:
            return None
        limit = self.limiter.limit_for(module)
        assert limit is not None
        reason = (
            f"rate limit exceeded: {module} allows {limit.per_second:g} requests/s "
            f"(burst {limit.burst}) per party; retry after {decision.retry_after} s"
        )
        return await self._refuse(
            exchange,
            ClientError.GENERIC,
            reason,
            http_status=429,
            extra_headers={"retry-after": str(decision.retry_after)},
        )

    def _ok_answer(self, exchange: _Exchange, data: bytes | None, message: str = "") -> Answer:
        envelope = [b"{"]
        if data is not None:
            envelope.append(b'"data":' + data + b",")
        envelope.append(b'"status_code":1000,')
        if message:
            envelope.append(b'"status_message":' + json.dumps(message).encode() + b",")
        envelope.append(b'"timestamp":"' + _timestamp().encode() + b'"}')
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=self.config.hub,
        )
        return Answer(200, headers, b"".join(envelope))

    def _hub_answer(
        self,
        exchange: _Exchange,
        status_code: int,
        message: str,
        http_status: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        if http_status is None:
            http_status = self.config.hub_error_http_status if 4000 <= status_code < 5000 else 200
        body = json.dumps(
            {"status_code": status_code, "status_message": message, "timestamp": _timestamp()},
            separators=(",", ":"),
        ).encode()
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=self.config.hub,
        )
        headers.update(extra_headers or {})
        return Answer(http_status, headers, body)

    async def _refuse(
        self,
        exchange: _Exchange,
        status_code: int,
        reason: object,
        *,
        http_status: int | None = None,
        route_class: RouteClass | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        if route_class is not None and exchange.from_party is None:
            exchange.from_party = route_class.from_party
            exchange.sender_inferred = route_class.from_party is not None
        if exchange.from_party is None:
            self._attribute(exchange)
        answer = self._hub_answer(
            exchange, int(status_code), str(reason), http_status, extra_headers
        )
        exchange.steps.append(lambda m: m.refuse(answer.http_status, int(status_code), str(reason)))
        self._respond_step(exchange, answer)
        await self._admit(exchange)
        return answer

    def _attribute(self, exchange: _Exchange) -> None:
        """A refusal before classification still names its sender where that is certain (the
        OCPI-from headers, else the calling connection's only party), so an operator finds it
        by party."""
        try:
            exchange.from_party = h.routing_headers(exchange.headers)[0]
        except InvalidHeaderError:
            exchange.from_party = None
        if exchange.from_party is not None:
            return
        request = exchange.request
        parties = (
            request.sender_parties
            if request.sender_parties is not None
            else self.table.parties_on_connection(request.connection.id)
        )
        refs = {party.ref for party in parties}
        if len(refs) == 1:
            (exchange.from_party,) = refs
            exchange.sender_inferred = True

    def _respond_step(self, exchange: _Exchange, answer: Answer, note: str | None = None) -> None:
        body = Body.of(answer.body)
        exchange.bodies.append(body)

        def respond(message: RoutedMessage) -> None:
            message.respond(
                answer.http_status,
                ocpi_status_of(answer.body),
                exchange.elapsed_ms(),
                h.sanitize_for_ledger(answer.headers),
                body.sha256,
                len(answer.body),
                note=note,
            )

        exchange.steps.append(respond)

    async def _finish(
        self, exchange: _Exchange, answer: Answer, bodies: list[Body], note: str | None = None
    ) -> Answer:
        """Queue the outcome and what the requester gets, then answer without waiting for its
        commit: the durability rule is "recorded before forwarding", which `_admit` kept; the
        outcome rides in the next group commit (a failure there is logged, never silent).
        `note` says what the hub had to do differently (recorded with the response)."""
        message = exchange.message
        assert message is not None
        exchange.steps = []
        exchange.bodies = list(bodies)
        self._respond_step(exchange, answer, note)
        try:
            for step in exchange.steps:
                step(message)
            self.recorder.record_behind(message, bodies=exchange.bodies)
        except Exception:
            # Already forwarded (and recorded as such): the requester still gets its answer.
            log.exception("recording the outcome of %s failed", exchange.request_id)
        return answer

    def _record_unrecorded_answer(self, exchange: _Exchange, message: RoutedMessage) -> None:
        """The record of a refused request landed after all (its commit outlasted the wait):
        add that nothing was sent and what the requester got, so the ledger does not show a
        forward that never happened."""
        answer = exchange.unrecorded
        if answer is None:
            return
        if message.outcome is not None:
            # A refusal carries its own answer, which the requester did not get either; the
            # domain keeps one answer per message, so this is only logged.
            log.warning(
                "%s was recorded as refused after the requester got HTTP 503 instead",
                exchange.request_id,
            )
            return
        for leg, state in message.legs.items():
            if state["outcome"] is None:
                message.record_failure(leg, int(HubError.GENERIC), NOT_SENT, 0.0)
        body = Body.of(answer.body)
        message.respond(
            answer.http_status,
            int(HubError.GENERIC),
            exchange.elapsed_ms(),
            h.sanitize_for_ledger(answer.headers),
            body.sha256,
            len(answer.body),
        )
        self.recorder.record_behind(message, bodies=[body])

    async def _admit(self, exchange: _Exchange) -> None:
        """Record everything decided so far; a repeated X-Request-ID becomes the next attempt."""
        request = exchange.request
        scope = request.connection.id
        retry_of: str | None = None
        for attempt in range(MAX_RETRY_ATTEMPTS):
            message = self._received(exchange, attempt, retry_of)
            for step in exchange.steps:
                step(message)
            try:
                exchange.position = await self.recorder.record(message, bodies=exchange.bodies)
            except IntegrityError:
                retry_of = str(message_id(scope, exchange.request_id, 0))
                continue
            except Exception as error:
                if isinstance(error, LedgerUnavailableError):
                    log.error("the ledger could not record %s: %s", exchange.request_id, error)
                else:
                    log.exception("the ledger could not record %s", exchange.request_id)
                exchange.unrecorded = self._hub_answer(
                    exchange,
                    HubError.GENERIC,
                    NOT_RECORDED,
                    http_status=503,
                    extra_headers={"Retry-After": "1"},
                )
                if isinstance(error, LedgerUnavailableError) and error.when_committed:
                    error.when_committed(partial(self._record_unrecorded_answer, exchange, message))
                raise LedgerUnavailableError(NOT_RECORDED) from error
            exchange.message = message
            return
        raise LedgerUnavailableError(
            f"X-Request-ID {exchange.request_id} was retried more than {MAX_RETRY_ATTEMPTS} times"
        )

    def _received(self, exchange: _Exchange, attempt: int, retry_of: str | None) -> RoutedMessage:
        request = exchange.request
        inbound = exchange.bodies[0] if request.body else None
        return RoutedMessage(
            sender_scope=request.connection.id,
            request_id=exchange.request_id,
            attempt=attempt,
            correlation_id=exchange.correlation_id,
            connection_id=request.connection.id,
            method=request.method,
            path=request.path,
            query=request.query,
            module=request.module,
            interface=request.interface,
            headers=h.sanitize_for_ledger(exchange.headers),
            body_sha256=inbound.sha256 if inbound else None,
            body_size=len(request.body),
            from_party=str(exchange.from_party) if exchange.from_party else None,
            to_party=str(exchange.to_party) if exchange.to_party else None,
            retry_of=retry_of or request.repeats,
            **({"sender_inferred": True} if exchange.sender_inferred else {}),
            **({"adjustments": list(exchange.adjustments)} if exchange.adjustments else {}),
        )

    async def _store(self, function: Callable[..., T], *args: Any) -> T:
        """A blocking store call off the event loop; failure means the ledger side is down."""
        try:
            result: T = await self._blocking(function, *args)
        except Exception as error:
            log.exception("hub store call %s failed", getattr(function, "__name__", function))
            raise LedgerUnavailableError("the hub's store cannot be used right now") from error
        return result

    async def _learn(self, fact: Any) -> None:
        if fact is not None and self.owners.learn(fact):
            await self._keep_fact(fact)

    async def _keep_fact(self, fact: Any) -> None:
        try:
            await self._blocking(self.owner_facts.add, fact)
        except Exception:
            log.exception("could not keep the owner fact %s", fact)

    async def _json_problem(self, body: bytes) -> str | None:
        if len(body) > _JSON_IN_THREAD:
            return await self._blocking(json_problem, body)
        return json_problem(body)

    async def aclose(self, timeout: float = 10.0) -> None:
        """Let running broadcast legs finish (bounded), then close the deliverer."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)
        await self.deliverer.aclose()

    async def drain(self) -> None:
        """Wait for the background fan-outs running now (tests, shutdown)."""
        while self._background:
            await asyncio.wait(set(self._background))


_MODULE_IDS = frozenset(str(m) for m in ModuleId)
_STORED_MODULES = frozenset({ModuleId.LOCATIONS, ModuleId.TARIFFS, ModuleId.TOKENS})


def _sub_object(document: bytes, sub_ids: tuple[str, ...]) -> bytes | None:
    if not sub_ids:
        return document
    node: Any = json.loads(document)
    for list_name, key, uid in zip(("evses", "connectors"), ("uid", "id"), sub_ids, strict=False):
        children = node.get(list_name) if isinstance(node, dict) else None
        matches = [c for c in children or [] if isinstance(c, dict) and c.get(key) == uid]
        if not matches:
            return None
        node = matches[0]
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _optional_datetime(value: str | None) -> str | None:
    return normalise_datetime(value) if value else None


def _with_query(endpoint: str, upstream: str) -> str:
    query = urlsplit(upstream).query
    return f"{endpoint}?{query}" if query else endpoint


def _redirect_note(outcome: Delivered) -> str | None:
    if outcome.redirected_to is None:
        return None
    return f"followed the receiver's trailing-slash redirect to {outcome.redirected_to}"


def _safely(step: Callable[..., None], *args: Any) -> None:
    """A ledger step on the in-memory message after forwarding: a failure is logged and the
    exchange goes on, so the requester still gets the receiver's answer."""
    try:
        step(*args)
    except Exception:
        log.exception("recording step %s failed", getattr(step, "__name__", step))


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    cause = error.__cause__
    return f"{text} ({_describe(cause)})" if cause is not None else text


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def json_problem(body: bytes) -> str | None:
    """Why `body` is not JSON, or None if it is."""
    try:
        json.loads(body)
    except UnicodeDecodeError:
        return "not UTF-8"
    except ValueError as error:
        return str(error)
    return None


def ocpi_status_of(body: bytes) -> int | None:
    """The envelope's status_code, for the ledger. Small bodies are parsed; for large ones the
    last status_code near the end is taken (the envelope puts it after `data`)."""
    if not body:
        return None
    if len(body) <= 64 * 1024:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        code = document.get("status_code") if isinstance(document, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None
    matches = _STATUS_CODE.findall(body[-4096:]) or _STATUS_CODE.findall(body[:4096])
    return int(matches[-1]) if matches else None
