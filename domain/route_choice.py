"""Which way an outbound message of a hosted party leaves a platform: locally, direct, or via a hub.

Pure rules, so the decision and its reason can be recorded with the message and tested alone.

Decisions:
* `auto` prefers a direct connection to the target's platform when it is CONNECTED and offers
  the module's endpoint with the same interface (digest §2.4 step 3); otherwise a hub connection
  that lists the target (learned through hub client info) and is CONNECTED.
* A module outside the OCPI functional modules (a custom module id two platforms agreed on) is
  never sent via a hub: the hub does not know it. Policy `hub` for such a module is refused.
* A party hosted on this node is always delivered locally; policy does not apply to it.
* The most specific policy rule wins: counterpart+module, then counterpart, then module, then `*`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.values import FUNCTIONAL_MODULES, ConnectionStatus, PartyRef, Way

ANY = "*"


class RoutePolicy(StrEnum):
    AUTO = "auto"
    DIRECT = "direct"
    HUB = "hub"


@dataclass(frozen=True)
class PolicyRule:
    """`counterpart` is a PartyRef or ANY; `module` a module id or ANY."""

    counterpart: PartyRef | str
    module: str
    policy: RoutePolicy

    def matches(self, target: PartyRef, module: str) -> bool:
        return (self.counterpart == ANY or self.counterpart == target) and (
            self.module == ANY or self.module == module
        )

    @property
    def specificity(self) -> int:
        return (2 if self.counterpart != ANY else 0) + (1 if self.module != ANY else 0)


def policy_for(rules: Iterable[PolicyRule], target: PartyRef, module: str) -> RoutePolicy:
    matching = [rule for rule in rules if rule.matches(target, module)]
    if not matching:
        return RoutePolicy.AUTO
    return max(matching, key=lambda rule: rule.specificity).policy


@dataclass(frozen=True)
class RouteCandidate:
    """One way to reach the target. `status` is the worse of the route's and its connection's;
    `offers_endpoint` says whether the connection publishes the module with that interface."""

    kind: Way
    connection_id: str | None
    status: ConnectionStatus
    offers_endpoint: bool
    label: str = ""

    @property
    def usable(self) -> bool:
        return self.status is ConnectionStatus.CONNECTED and self.offers_endpoint

    def describe(self) -> str:
        name = self.label or self.connection_id or self.kind
        if self.status is not ConnectionStatus.CONNECTED:
            return f"{self.kind} connection {name} is {self.status}"
        if not self.offers_endpoint:
            return f"{self.kind} connection {name} offers no such endpoint"
        return f"{self.kind} connection {name}"


@dataclass(frozen=True)
class RouteDecision:
    kind: Way
    connection_id: str | None
    reason: str


@dataclass(frozen=True)
class NoRoute:
    reason: str


_FUNCTIONAL = frozenset(str(m) for m in FUNCTIONAL_MODULES)


def is_custom_module(module: str) -> bool:
    return module not in _FUNCTIONAL


def worse_status(*statuses: ConnectionStatus) -> ConnectionStatus:
    """The status of a path is its weakest link."""
    order = (
        ConnectionStatus.SUSPENDED,
        ConnectionStatus.OFFLINE,
        ConnectionStatus.PLANNED,
        ConnectionStatus.CONNECTED,
    )
    return min(statuses, key=order.index)


def choose_route(
    target: PartyRef,
    module: str,
    interface: str,
    candidates: Sequence[RouteCandidate],
    policy: RoutePolicy = RoutePolicy.AUTO,
) -> RouteDecision | NoRoute:
    what = f"{module} {interface.upper()}"
    local = next((c for c in candidates if c.kind is Way.LOCAL), None)
    if local is not None:
        return RouteDecision(Way.LOCAL, None, f"{target} is hosted on this platform")
    directs = [c for c in candidates if c.kind is Way.DIRECT]
    hubs = [c for c in candidates if c.kind is Way.HUB]
    direct = next((c for c in directs if c.usable), None)
    hub = next((c for c in hubs if c.usable), None)
    custom = is_custom_module(module)
    why_not_direct = (
        "; ".join(c.describe() for c in directs) or f"no direct connection to {target}'s platform"
    )

    if custom and policy is RoutePolicy.HUB:
        return NoRoute(f"custom module {module} is never routed via a hub (policy hub)")
    if policy is RoutePolicy.HUB:
        if hub is not None:
            return RouteDecision(Way.HUB, hub.connection_id, f"policy hub: via {_via(hub)}")
        return NoRoute(f"policy hub, but no usable hub lists {target}: {_why_not(hubs, target)}")
    if direct is not None:
        if custom:
            prefix = f"custom module {module} goes direct only"
        elif policy is RoutePolicy.DIRECT:
            prefix = "policy direct"
        else:
            prefix = "direct preferred"
        reason = f"{prefix}: {direct.describe()} is CONNECTED and offers {what}"
        return RouteDecision(Way.DIRECT, direct.connection_id, reason)
    if custom:
        return NoRoute(
            f"custom module {module} goes direct only, never via a hub, and no CONNECTED direct"
            f" connection offers {what} to {target}: {why_not_direct}"
        )
    if policy is RoutePolicy.DIRECT:
        return NoRoute(f"policy direct, but {why_not_direct}")
    if hub is not None:
        reason = f"{why_not_direct}; via {_via(hub)} (listed there through hub client info)"
        return RouteDecision(Way.HUB, hub.connection_id, reason)
    return NoRoute(f"no route to {target} for {what}: {why_not_direct}; {_why_not(hubs, target)}")


def _via(hub: RouteCandidate) -> str:
    return f"hub connection {hub.label or hub.connection_id}"


def _why_not(hubs: Sequence[RouteCandidate], target: PartyRef) -> str:
    return "; ".join(c.describe() for c in hubs) or f"no hub lists {target}"
