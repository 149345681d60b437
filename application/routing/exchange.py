"""The values one routed request is made of: what came in, what goes out, what the ledger will
hold about it while it is handled, and the ports the routing service records and blocks through."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.bodies import Body
from application.delivery import Target
from application.routing_table import ConnectionEntry
from domain.messages import Admission, RoutedMessage
from domain.route_choice import PolicyRule
from domain.values import OCPI_VERSION, PartyKey, PartyRef


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
    outcome_before_answer: bool = True
    """Commit a relayed answer before the requester gets it (else behind it; see
    `ExchangeRecorder.finish`)."""


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
    version: str = OCPI_VERSION
    """The OCPI version of the path prefix the request came on (`/ocpi/{version}/...`)."""


@dataclass(frozen=True)
class Answer:
    http_status: int
    headers: dict[str, str]
    body: bytes
    translation: dict[str, Any] | None = None
    """The body was translated toward the receiver's version: what the ledger keeps of it."""
    via: str | None = None
    """local | direct | hub when the request was forwarded to one target; with `reason`."""
    reason: str = ""


@dataclass
class Exchange:
    """One inbound request while it is being handled: what the ledger will hold about it."""

    request: InboundRequest
    request_id: str
    correlation_id: str
    started: float
    headers: dict[str, str]
    path: str = ""
    """The path routed by: as received, or as read leniently (see `adjustments`)."""
    adjustments: list[str] = field(default_factory=list)
    """What the hub read into a sloppy request (recorded with the request)."""
    from_party: PartyRef | None = None
    """The sender: OCPI-from, or the party classification inferred (`sender_inferred`)."""
    to_party: PartyRef | None = None
    sender_inferred: bool = False
    steps: list[Callable[[Admission], None]] = field(default_factory=list)
    """What is decided before forwarding, applied to the message's `Admission`."""
    bodies: list[Body] = field(default_factory=list)
    message: RoutedMessage | None = None
    position: int = 0
    """The ledger position that holds what `admit` recorded."""
    unrecorded: Answer | None = None
    """The 503 the requester gets when `admit` could not record."""

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass(frozen=True)
class Leg:
    index: int
    target: Target
    url: str
    headers: dict[str, str]
    body: bytes
    translation: dict[str, Any] | None = None
    """The body was translated toward the receiver's version: what the ledger keeps of it."""
