"""Hub routing of functional-module traffic: classify, choose, record, deliver, record.

Above 500 lines on purpose: the flows of one exchange (intake, classification, the route kinds,
forwarding and its conclusion, broadcast, refusals) read top to bottom here, in the order a
request meets them; every collaborator they call lives in a module of its own beside this one.

One `RoutingService.handle` call per inbound request. The order never changes: nothing is
forwarded before the ledger holds the request, its routing decision and each forwarded leg
(one Admitted event: the steps Received, Routed, Forwarded); the outcome (one Concluded event:
Answered/Failed per leg, Responded) follows, committed before the requester gets the answer
(`outcome_before_answer`, the default) or behind it (queued before it, committed in the next
group commit). A refusal, or an answer the hub gives itself, is one Admitted event holding its
Refused/Responded steps too. If the ledger cannot record, `LedgerUnavailableError` is raised
and nothing is forwarded.

Hot path: routing decisions read the in-memory routing table and owner index; each request
builds one `Admission`, records it as a `RoutedMessage`, records the outcome on that object and
hands the new event to the group committer (an awaitable, so the event loop never blocks on
the database). Blocking store calls (links, hub objects, owner facts) run in worker threads.

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
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from application.bodies import Body
from application.callbacks import CALLBACK, CDR_LOCATION, HubLink, LinkStore, callback_id
from application.delivery import (
    Deliverer,
    Delivery,
    DeliveryFailed,
    DeliveryOutcome,
    Target,
)
from application.errors import LedgerUnavailableError
from application.hub_store import HubObjectStore
from application.local_backends import LocalBackends
from application.owner_index import (
    InMemoryOwnerIndex,
    OwnerFactStore,
    contract_facts,
    fact_of,
)
from application.rate_limits import RateLimiter
from application.routing.answers import HubAnswers, describe, json_problem
from application.routing.bridging import VersionBridge
from application.routing.broadcast import fan_out
from application.routing.exchange import (
    Answer,
    Blocking,
    Exchange,
    InboundRequest,
    Leg,
    MessageRecorder,
    RoutingConfig,
)
from application.routing.hub_reads import HubStoreReads
from application.routing.intake import Intake
from application.routing.legs import build_leg, deliver_safely
from application.routing.links import CallbackLinks
from application.routing.recording import ExchangeRecorder, record_delivered, safely
from application.routing.route_finder import (
    BroadcastExplanation,
    RouteExplanation,
    RouteFinder,
    Unroutable,
)
from application.routing.versions import (
    TranslationRefused,
    dump_json,
    version_of,
)
from application.routing_table import InMemoryRoutingTable
from domain import headers as h
from domain.connections import Leniency
from domain.errors import InvalidHeaderError, InvalidOperationError, RewriteError
from domain.operations import Operation, OperationKind, parse_operation
from domain.routing import (
    RouteClass,
    RouteClassKind,
    broadcast_sender_role,
    classify,
    resolve_open_routing,
)
from domain.status_codes import ClientError, HubError
from domain.values import (
    AnyModuleId,
    InterfaceRole,
    ModuleId,
    PartyKey,
    PartyRef,
)
from domain.versions import PAYMENTS, V2_1_1, V2_3_0

log = logging.getLogger(__name__)

T = TypeVar("T")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_IN_THREAD = 1024 * 1024


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
        self.deliverer = deliverer
        self.links = links
        self.objects = objects
        self.owners = owners
        self.owner_facts = owner_facts
        self._blocking = blocking
        self._now = now
        self.backends = backends or LocalBackends()
        self._background: set[asyncio.Task[None]] = set()
        self.intake = Intake(table)
        self.answers = HubAnswers(config)
        self.ledger = ExchangeRecorder(recorder, self.answers, config.outcome_before_answer)
        self.routes = RouteFinder(config, table, self.backends)
        self.callbacks = CallbackLinks(config, links, self._store, now)
        self.bridge = VersionBridge(table, objects, owners, self._store)
        self.hub_reads = HubStoreReads(
            config,
            objects,
            self.answers,
            self.ledger,
            self.routes,
            self._store,
            self._refuse,
            self.bridge.stored,
            self.bridge.stored_one,
        )

    @property
    def recorder(self) -> MessageRecorder:
        return self.ledger.recorder

    @recorder.setter
    def recorder(self, recorder: MessageRecorder) -> None:
        self.ledger.recorder = recorder

    # ---- entry point -------------------------------------------------------------------------

    async def handle(self, request: InboundRequest) -> Answer:
        exchange, problem = self.intake.open(request)
        return await self._settle(exchange, self._classify(exchange, problem))

    async def refuse(
        self, request: InboundRequest, status_code: int, reason: str, http_status: int
    ) -> Answer:
        """Refuse, on record, a request that cannot even be routed (no such endpoint, a method
        OCPI does not use there, a body over the limit): the caller finds it like any other."""
        exchange, _ = self.intake.open(request)
        return await self._settle(
            exchange, self._refuse(exchange, status_code, reason, http_status=http_status)
        )

    async def _settle(self, exchange: Exchange, work: Awaitable[Answer]) -> Answer:
        try:
            return await work
        except LedgerUnavailableError:
            if exchange.unrecorded is None:
                raise
            return exchange.unrecorded
        except Exception as error:
            # A fault of our own: never a bare 500, and the ledger says what became of it.
            log.exception("handling %s failed", exchange.request_id)
            return await self.ledger.record_fault(exchange, error)

    async def _classify(self, exchange: Exchange, problem: str | None) -> Answer:
        request, headers = exchange.request, exchange.headers
        if problem is not None:
            return await self._refuse(exchange, ClientError.INVALID_OR_MISSING_PARAMETERS, problem)
        spoken = version_of(request.connection.version)
        if request.sender_parties is None and request.version != spoken:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"this connection speaks OCPI {spoken}, not {request.version}: use the"
                f" /ocpi/{spoken}/ endpoints its version details list",
                http_status=400,
            )
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
        if (
            operation.kind is OperationKind.CUSTOM
            and self.config.hub is not None
            and not (request.version == V2_3_0 and operation.module == PAYMENTS)
        ):
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
        if request.version == V2_1_1 and operation.kind is OperationKind.PULL_LIST:
            # 2.1.1 cannot address anyone: its list GETs are answered from the hub's store.
            exchange.to_party = self.config.hub
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
            # 2.1.1 has no routing headers: its pushes are broadcast, however strict the peer
            Leniency.LENIENT if request.version == V2_1_1 else request.connection.leniency,
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
        exchange: Exchange,
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
            and kind in (RouteClassKind.DIRECT, RouteClassKind.OPEN_ROUTING)
        ):
            return await self._cdr_get(exchange, operation, route_class)
        if kind is RouteClassKind.BROADCAST:
            return await self._broadcast(exchange, operation, route_class, sender_parties)
        if kind is RouteClassKind.GET_ALL:
            return await self.hub_reads.get_all(exchange, operation, route_class)
        if kind is RouteClassKind.HUB_RECEIVER_GET:
            return await self.hub_reads.receiver_get(exchange, operation, route_class)
        to_party = route_class.to_party
        found_by = ""
        if kind is RouteClassKind.OPEN_ROUTING and _routed_by_contract(exchange, operation):
            to_party, found_by, fact = self.bridge.contract_owner(operation, exchange.request.body)
            await self._learn(fact)
            if to_party is None:
                return await self._refuse(
                    exchange,
                    HubError.UNKNOWN_RECEIVER,
                    f"OCPI 2.1.1 {operation.module} name no receiver and {found_by}",
                    route_class=route_class,
                )
            found_by = f"OCPI 2.1.1 has no routing headers: routed by token, {found_by}; "
        elif kind is RouteClassKind.OPEN_ROUTING:
            to_party = resolve_open_routing(operation, exchange.request.body, self.owners)
            relay = self.routes.broadcast_via_hub(operation) if to_party is None else None
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
        unsupported = self.bridge.not_supported(exchange, operation, to_party)
        if unsupported is not None:
            return await self._not_supported(
                exchange, operation, route_class, to_party, unsupported
            )
        missing = self.bridge.module_missing(to_party, str(operation.module))
        if missing is not None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                missing,
                http_status=400,
                route_class=route_class,
            )
        chosen = self.routes.choose(to_party, operation.module, operation.interface)
        if isinstance(chosen, Unroutable):
            return await self._refuse(
                exchange, chosen.status_code, chosen.reason, route_class=route_class
            )
        target, reason = chosen
        if found_by:
            reason = found_by + reason
        elif kind is RouteClassKind.OPEN_ROUTING:
            reason = f"open routing resolved {to_party} from the request; {reason}"
        return await self._forward(exchange, operation, route_class, target, reason)

    async def _not_supported(
        self,
        exchange: Exchange,
        operation: Operation,
        route_class: RouteClass,
        party: PartyRef,
        data: Any,
    ) -> Answer:
        """The receiver's version has no form of this command or charging-profile request: the
        hub answers NOT_SUPPORTED for it, as the requester's version defines (digest §11.19),
        on record, with nothing forwarded and no callback link (no result will follow)."""
        answer = self.answers.ok(exchange, dump_json(data))
        what = f"{operation.command} command" if operation.command else f"{operation.module} module"
        reason = (
            f"answered by the hub: {party} speaks OCPI 2.1.1, which has no {what}; NOT_SUPPORTED"
        )
        exchange.steps.append(lambda m: m.route(str(route_class.kind), [str(party)], reason))
        self.ledger.respond_step(exchange, answer, "NOT_SUPPORTED answered by the hub")
        await self.ledger.admit(exchange)
        return answer

    # ---- forwarding to one target ----------------------------------------------------------

    async def _forward(
        self,
        exchange: Exchange,
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
                body, query, link = self.callbacks.replace_response_url(
                    exchange, operation, target, self.bridge.version_of_target(target)
                )
            except RewriteError as error:
                return await self._refuse(
                    exchange,
                    ClientError.INVALID_OR_MISSING_PARAMETERS,
                    f"response_url cannot be replaced: {error}",
                    route_class=route_class,
                )
        try:
            translated = await self.bridge.leg(exchange, operation, target, body)
        except TranslationRefused as error:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                error,
                http_status=400,
                route_class=route_class,
            )
        body = translated.body
        url = url or target.url(operation.path, query)
        leg = build_leg(exchange, 0, target, url, body, route_class, open_to=target.party)
        leg = translated.onto(leg)
        if body is not request.body and body:
            exchange.bodies.append(Body.of(body, exchange.headers.get(h.CONTENT_TYPE) or h.JSON))
        kind = str(route_class.kind)
        via = target.kind
        exchange.steps.append(lambda m: m.route(kind, [str(target.party)], reason, via))
        exchange.steps.append(lambda m: self.ledger.forward_step(m, leg))
        if link is not None:
            await self._store(self.links.put, link)
        await self.ledger.admit(exchange)
        for fact in (fact_of(operation), *contract_facts(operation, request.body)):
            if fact is not None and self.owners.learn(fact):
                # Known at once for open routing; kept in the store behind, off the answer's path.
                self._spawn(self._keep_fact(fact))
        outcome = await deliver_safely(
            self.deliverer, Delivery(leg.target, request.method, leg.url, leg.headers, leg.body)
        )
        # Forwarded: from here on nothing of ours may keep the receiver's answer from the
        # requester or its outcome from the ledger (a failed step degrades, it never raises).
        answer = await self._conclude(exchange, operation, target, outcome, link)
        return replace(answer, via=via, reason=reason)

    async def _conclude(
        self,
        exchange: Exchange,
        operation: Operation,
        target: Target,
        outcome: DeliveryOutcome,
        link: HubLink | None,
    ) -> Answer:
        message = exchange.message
        assert message is not None
        if isinstance(outcome, DeliveryFailed):
            safely(
                message.record_failure,
                0,
                int(outcome.status_code),
                outcome.reason,
                outcome.latency_ms,
            )
            answer = self.answers.error(exchange, outcome.status_code, outcome.reason)
            return await self.ledger.finish(exchange, answer, [])
        notes = []
        try:
            relayed, translation = await self.bridge.answer(exchange, operation, target, outcome)
        except Exception as error:
            log.exception("translating the answer to %s failed", exchange.request_id)
            relayed, translation = outcome, None
            notes.append(f"answer relayed untranslated: {describe(error)}")
        if translation is not None and "refused" in translation:
            notes.append(f"answer relayed untranslated: {translation['refused']}")
        try:
            answer = await self.callbacks.relay(
                exchange,
                operation,
                target,
                relayed,
                partial(self.routes.hub_endpoint, version=exchange.request.version),
            )
        except Exception as error:
            log.exception("relaying the answer to %s failed", exchange.request_id)
            notes.append(f"answer relayed without rewritten Link/Location: {describe(error)}")
            answer = self.answers.plain_relay(exchange, target, relayed)
        if link is not None:
            try:
                await self.callbacks.extend(link, outcome)
            except Exception as error:
                notes.append(f"callback link {link.id} kept its first expiry: {describe(error)}")
        try:
            delivered = record_delivered(message, 0, outcome, translation)
            bodies = [delivered] if outcome.body else []
        except Exception:
            log.exception("recording the answer to %s failed", exchange.request_id)
            bodies = []
        return await self.ledger.finish(exchange, answer, bodies, note="; ".join(notes) or None)

    async def _callback(
        self, exchange: Exchange, operation: Operation, route_class: RouteClass
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
        target = self.routes.link_target(link)
        if isinstance(target, Unroutable):
            return await self._refuse(
                exchange, target.status_code, target.reason, route_class=route_class
            )
        reason = f"callback {link.id} of {link.correlation_id} back to {link.requester_party}"
        return await self._forward(
            exchange, operation, route_class, target, reason, url=link.original_url
        )

    async def _cdr_get(
        self, exchange: Exchange, operation: Operation, route_class: RouteClass
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
        chosen = self.routes.choose(link.receiver_party, operation.module, operation.interface)
        if isinstance(chosen, Unroutable):
            return await self._refuse(
                exchange, chosen.status_code, chosen.reason, route_class=route_class
            )
        target, reason = chosen
        reason = f"CDR location {link.id}; {reason}"
        return await self._forward(
            exchange, operation, route_class, target, reason, url=link.original_url
        )

    # ---- route choice (read-only: also what the admin dry runs call) -----------------------

    def explain_route(
        self, party: PartyRef, module: AnyModuleId, interface: InterfaceRole
    ) -> RouteExplanation:
        return self.routes.explain_route(party, module, interface)

    def explain_broadcast(self, sender: PartyRef, module: ModuleId) -> BroadcastExplanation:
        return self.routes.explain_broadcast(sender, module)

    # ---- broadcast ---------------------------------------------------------------------------

    async def _broadcast(
        self,
        exchange: Exchange,
        operation: Operation,
        route_class: RouteClass,
        sender_parties: list[PartyKey],
    ) -> Answer:
        request = exchange.request
        module = ModuleId(operation.module)  # only OCPI modules are broadcast
        from_party = route_class.from_party
        assert from_party is not None
        role = broadcast_sender_role(module, from_party, sender_parties)
        if role is None:
            return await self._refuse(
                exchange,
                ClientError.INVALID_OR_MISSING_PARAMETERS,
                f"{from_party} holds several roles and none owns {operation.module}",
                route_class=route_class,
            )
        targets = self.routes.broadcast_targets(role, module, from_party, request.connection.id)
        legs: list[Leg] = []
        skipped: list[str] = []
        for target in targets:
            try:
                translated = await self.bridge.leg(exchange, operation, target, request.body)
            except TranslationRefused as error:
                skipped.append(str(error))
                continue
            url = target.url(operation.path, request.query)
            leg = build_leg(
                exchange,
                len(legs),
                target,
                url,
                translated.body,
                route_class,
                broadcast=True,
                hub=self.config.hub,
            )
            leg = translated.onto(leg)
            if leg.translation is not None and translated.body:
                exchange.bodies.append(Body.of(translated.body))
            legs.append(leg)
        parties = [str(leg.target.party) for leg in legs]
        reason = f"broadcast from {from_party} as {role} to {len(legs)} receiver(s)"
        if request.version == V2_1_1:
            reason = f"OCPI 2.1.1 has no routing headers: {reason}"
        elif route_class.note:
            reason = f"{route_class.note}; {reason}"
        if skipped:
            reason += f"; not sent to {len(skipped)}: " + "; ".join(skipped)
        exchange.steps.append(lambda m: m.route(str(RouteClassKind.BROADCAST), parties, reason))
        for leg in legs:
            exchange.steps.append(partial(self.ledger.forward_step, leg=leg))
        answer = self.answers.ok(exchange, None, f"broadcast to {len(legs)} receiver(s)")
        self.ledger.respond_step(exchange, answer)
        await self.ledger.admit(exchange)
        # The hub's copy of the object is a projection of the ledger (application.hub_objects):
        # this push is in it once the projection passes its position, and reads wait for that.
        self.objects.pushed(exchange.position)
        await self._learn(fact_of(operation))
        for fact in contract_facts(operation, request.body):
            await self._learn(fact)
        if legs:
            self._spawn(fan_out(self.deliverer, self.ledger.recorder, exchange, legs))
        return answer

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- refusals ----------------------------------------------------------------------------

    async def _rate_limited(self, exchange: Exchange) -> Answer | None:
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

    async def _refuse(
        self,
        exchange: Exchange,
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
            self.intake.attribute(exchange)
        answer = self.answers.error(
            exchange, int(status_code), str(reason), http_status, extra_headers
        )
        # the code the requester got (a 2.1.1 party has no hub codes), with the hub's reason
        spoken = self.answers.code_for(exchange, int(status_code))
        exchange.steps.append(lambda m: m.refuse(answer.http_status, spoken, str(reason)))
        self.ledger.respond_step(exchange, answer)
        await self.ledger.admit(exchange)
        return answer

    # ---- blocking calls ----------------------------------------------------------------------

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
            problem: str | None = await self._blocking(json_problem, body)
            return problem
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


def _routed_by_contract(exchange: Exchange, operation: Operation) -> bool:
    """A 2.1.1 session or CDR push: no routing headers and no owner ids in the token, only
    `auth_id`; the receiver is the eMSP that owns that contract id."""
    return exchange.request.version == V2_1_1 and (
        operation.kind is OperationKind.CDR_POST
        or (operation.kind is OperationKind.PUSH and operation.module is ModuleId.SESSIONS)
    )
