"""Where a message goes: route choice for one party, broadcast audiences, callback targets.

Read-only: it reads the in-memory routing table and the hosted backends and never records or
sends anything, so the admin dry runs (`explain_route`, `explain_broadcast`) call exactly what
routing calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from application.callbacks import HubLink
from application.delivery import Target, connection_target
from application.endpoints import ROLE_INTERFACES
from application.local_backends import LocalBackends
from application.routing.exchange import RoutingConfig
from application.routing_table import InMemoryRoutingTable
from domain.operations import Operation, OperationKind
from domain.route_choice import (
    NoRoute,
    RouteCandidate,
    choose_route,
    policy_for,
    worse_status,
)
from domain.routing import (
    BROADCASTABLE,
    BroadcastCandidate,
    broadcast_audience,
    broadcast_sender_role,
)
from domain.status_codes import HubError
from domain.values import (
    OCPI_VERSION,
    AnyModuleId,
    ConnectionStatus,
    CustomModuleId,
    InterfaceRole,
    ModuleId,
    PartyRef,
    Role,
    Way,
)

_MODULE_IDS = frozenset(str(m) for m in ModuleId)


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
class Unroutable:
    status_code: HubError
    reason: str


class RouteFinder:
    def __init__(
        self, config: RoutingConfig, table: InMemoryRoutingTable, backends: LocalBackends
    ) -> None:
        self.config = config
        self.table = table
        self.backends = backends

    def explain_route(
        self, party: PartyRef, module: AnyModuleId, interface: InterfaceRole
    ) -> RouteExplanation:
        """What a message to `party` for this module interface would do now, and why: the
        same choice `handle` makes, without recording or sending anything (no token shown)."""
        chosen = self.choose(party, module, interface)
        if isinstance(chosen, Unroutable):
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
            {r.route_key for r in self.table.routes_to(sender) if r.kind in (Way.DIRECT, Way.LOCAL)}
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
            for target in self.broadcast_targets(role, module, sender, sender_connection)
        ]
        reason = (
            f"broadcast from {sender} as {role} to {len(receivers)} receiver(s): CONNECTED "
            f"parties of the audience roles whose platform offers the {module} RECEIVER "
            "interface, not on the sender's own connection"
        )
        return BroadcastExplanation(str(sender), str(module), str(role), receivers, reason)

    def choose(
        self, party: PartyRef, module: AnyModuleId, interface: InterfaceRole
    ) -> tuple[Target, str] | Unroutable:
        """Route choice (domain/route_choice.py): hosted here, else a CONNECTED direct
        connection offering the endpoint, else a hub that lists the party; policy may force
        direct or hub. The reason names the alternatives that were passed over."""
        routes = self.table.routes_to(party)
        candidates: list[RouteCandidate] = []
        targets: dict[str | None, Target] = {}
        local_problem = ""
        for route in sorted(routes, key=lambda r: r.route_key):
            if route.kind == Way.LOCAL:
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
            return Unroutable(HubError.UNKNOWN_RECEIVER, local_problem)
        policy = policy_for(self.config.policy, party, str(module))
        decision = choose_route(party, str(module), str(interface), candidates, policy)
        if isinstance(decision, NoRoute):
            if not candidates or isinstance(module, CustomModuleId):
                return Unroutable(HubError.UNKNOWN_RECEIVER, decision.reason)
            if all(c.status is ConnectionStatus.CONNECTED for c in candidates):
                return Unroutable(
                    HubError.UNKNOWN_RECEIVER,
                    f"{party} does not implement the {module} {interface} interface"
                    f" on any usable route: {decision.reason}",
                )
            return Unroutable(
                HubError.CONNECTION_PROBLEM, f"{party} is not connected: {decision.reason}"
            )
        return targets[decision.connection_id], decision.reason

    def broadcast_via_hub(self, operation: Operation) -> tuple[Target, str] | None:
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
                return replace(found, kind=Way.HUB), reason
        return None

    def hub_endpoint(
        self, module: AnyModuleId, interface: InterfaceRole, version: str = OCPI_VERSION
    ) -> str:
        """The hub's own endpoint, under the version of the party that will follow it."""
        return f"{self.config.base_url}/ocpi/{version}/{module}/{str(interface).lower()}"

    def broadcast_targets(
        self, role: Role, module: ModuleId, sender: PartyRef, sender_connection: str
    ) -> list[Target]:
        """Where a broadcast push from `sender` (in `role`, on `sender_connection`) goes."""
        audience = broadcast_audience(
            role,
            module,
            self.broadcast_candidates(),
            sender=sender,
            sender_connection_id=sender_connection,
        )
        targets = (self.candidate_target(candidate, module) for candidate in audience)
        return [target for target in targets if target is not None]

    def broadcast_candidates(self) -> list[BroadcastCandidate]:
        candidates = []
        for party in self.table.parties():
            for route in party.routes.values():
                if route.kind == Way.LOCAL:
                    modules = frozenset(
                        m for m, i in ROLE_INTERFACES.get(party.key.role, ()) if i == "RECEIVER"
                    )
                    status = route.status if route.backend_url else ConnectionStatus.PLANNED
                    candidates.append(BroadcastCandidate(party.key, Way.LOCAL, status, modules))
                    continue
                connection = self.table.connection(route.route_key)
                if connection is None:
                    continue
                modules = frozenset(
                    ModuleId(m)
                    for m, i, _ in connection.interfaces()
                    if i == InterfaceRole.RECEIVER and m in _MODULE_IDS
                )
                status = (
                    route.status
                    if connection.status is ConnectionStatus.CONNECTED
                    else connection.status
                )
                candidates.append(BroadcastCandidate(party.key, route.route_key, status, modules))
        return candidates

    def candidate_target(self, candidate: BroadcastCandidate, module: ModuleId) -> Target | None:
        party = candidate.party.ref
        if candidate.connection_id == Way.LOCAL:
            for route in self.table.routes_to(party):
                if route.kind == Way.LOCAL:
                    found = self.backends.target(party, route.backend_url, module, "RECEIVER")
                    return found if isinstance(found, Target) else None
            return None
        connection = self.table.connection(candidate.connection_id)
        if connection is None:
            return None
        return connection_target(party, None, connection, module, InterfaceRole.RECEIVER)

    def link_target(self, link: HubLink) -> Target | Unroutable:
        party = link.requester_party
        if link.requester_connection_id == Way.LOCAL:
            local = self.backends.callback_target(party, link.original_url)
            if local is None:
                return Unroutable(HubError.CONNECTION_PROBLEM, f"{party} is no longer hosted here")
            return local
        connection = self.table.connection(link.requester_connection_id)
        if (
            connection is None
            or connection.status is not ConnectionStatus.CONNECTED
            or connection.outbound_token is None
        ):
            return Unroutable(HubError.CONNECTION_PROBLEM, f"{party} is not connected")
        return Target(
            party=party,
            route_key=connection.id,
            # a platform relays the result to a hub it reached the requester through
            kind=Way.HUB if any(r.role is Role.HUB for r in connection.roles) else Way.DIRECT,
            endpoint_url=link.original_url,
            token=connection.outbound_token,
            token_encoding=connection.outbound_token_encoding,
        )
