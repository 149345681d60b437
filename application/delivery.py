"""Delivering one request to one target: the port every forwarding path goes through.

A target is a connected platform (its endpoint for the module and interface, the token we
present and its encoding) or a party hosted on this node (its backend URL). The routing service
decides *what* to send where; a `Deliverer` only sends it and says what came back.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from application.routing_table import ConnectionEntry, RouteEntry
from domain.status_codes import HubError
from domain.values import AnyModuleId, InterfaceRole, PartyRef, Way


@dataclass(frozen=True, slots=True)
class Target:
    """Where a leg goes: `route_key` is a connection id, or `Way.LOCAL` for a hosted party."""

    party: PartyRef
    route_key: str
    kind: str  # a Way
    endpoint_url: str
    token: str | None = None
    token_encoding: str = "base64"

    @property
    def connection_id(self) -> str | None:
        return None if self.route_key == Way.LOCAL else self.route_key

    def authorization(self) -> str | None:
        """The Authorization header value for this target (a local backend's token too)."""
        if self.token is None:
            return None
        if self.token_encoding == "raw":
            return f"Token {self.token}"
        return "Token " + base64.b64encode(self.token.encode("utf-8")).decode("ascii")

    def url(self, path: str, query: str) -> str:
        """Endpoint URL joined with exactly one `/` to `path`, plus `?query` (digest §1.12)."""
        url = self.endpoint_url.rstrip("/") + path if path else self.endpoint_url
        return f"{url}?{query}" if query else url


def connection_target(
    party: PartyRef,
    route: RouteEntry | None,
    connection: ConnectionEntry,
    module: AnyModuleId,
    interface: InterfaceRole,
) -> Target | None:
    """The target on `connection` for `module`/`interface`; None if it lacks that endpoint."""
    endpoint = connection.endpoint_url(str(module), str(interface))
    if endpoint is None or connection.outbound_token is None:
        return None
    return Target(
        party=party,
        route_key=connection.id,
        kind=route.kind if route is not None else Way.DIRECT,
        endpoint_url=endpoint,
        token=connection.outbound_token,
        token_encoding=connection.outbound_token_encoding,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    target: Target
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Delivered:
    http_status: int
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    latency_ms: float
    redirected_to: str | None = None
    """Where the request went after a followed trailing-slash redirect (domain.redirects)."""


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    status_code: HubError
    reason: str
    latency_ms: float
    details: dict[str, str] = field(default_factory=dict)


DeliveryOutcome = Delivered | DeliveryFailed


class Deliverer(Protocol):
    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        """Send one request; never raises for network trouble (that is a `DeliveryFailed`):
        timeout -> 4002, cannot connect -> 4003, anything else (response too large, protocol
        error) -> 4000."""
        ...

    async def aclose(self) -> None: ...
