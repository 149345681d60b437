"""The routing table: every known party, the routes that reach it, and the connections behind them.

One projection fills two views: an in-memory one the hot path reads (it also keeps the tokens and
endpoints a forward needs) and a persisted one for the admin API and audits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from application.endpoints import ROLE_INTERFACES
from application.projection import Projection, TrackedView
from domain.connections import Connection, Leniency
from domain.parties import Party
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role


@dataclass(frozen=True)
class ConnectionEntry:
    id: str
    label: str
    initiated_by: str
    status: ConnectionStatus
    version: str | None = None
    versions_url: str | None = None
    endpoints: tuple[tuple[str, str, str], ...] = ()  # (module, interface role, url)
    roles: tuple[PartyKey, ...] = ()
    token_a_hash: str | None = None
    inbound_token_hash: str | None = None
    outbound_token: str | None = None
    outbound_token_encoding: str = "base64"
    unregistered: bool = False
    status_reason: str = ""
    updated_at: str = ""
    pending_inbound_token_hash: str | None = None  # our token while we send our credentials
    created_at: str = ""
    leniency: Leniency = Leniency.LENIENT
    proposed_version: str | None = None  # what the invitation (or connect request) proposed
    proposed_role: str | None = None  # 2.1.1: the peer's role, which its credentials lack
    refuse_losing: tuple[str, ...] = ()
    """Translation policy: fields whose loss in a version translation refuses the message."""

    @property
    def is_registered(self) -> bool:
        return self.version is not None and not self.unregistered

    def endpoint_url(self, module: str, interface_role: str) -> str | None:
        for identifier, role, url in self.interfaces():
            if identifier == module and role == interface_role:
                return url
        return None

    def interfaces(self) -> list[tuple[str, str, str]]:
        """(module, interface role, url) of each endpoint. A 2.1.1 endpoint names no role: it
        is the interface its connection's only party implements for that module."""
        implied: dict[str, str] = {}
        if len(self.roles) == 1:
            implied = {
                str(module): str(interface)
                for module, interface in ROLE_INTERFACES.get(self.roles[0].role, ())
            }
        return [
            (identifier, role or implied.get(identifier, ""), url)
            for identifier, role, url in self.endpoints
        ]


@dataclass(frozen=True)
class RouteEntry:
    party: PartyKey
    route_key: str  # connection id, or Way.LOCAL
    kind: str  # direct | hub | local
    status: ConnectionStatus
    backend_url: str | None = None
    updated_at: str = ""


@dataclass
class PartyEntry:
    key: PartyKey
    business_details: dict[str, Any]
    routes: dict[str, RouteEntry] = field(default_factory=dict)
    updated_at: str = ""


class RoutingTableWriter(Protocol):
    """What the routing-table projection writes. Parties are addressed by their aggregate id,
    because Party events after Registered do not repeat the party's key."""

    def put_connection(self, entry: ConnectionEntry) -> None: ...
    def get_connection(self, connection_id: str) -> ConnectionEntry | None: ...
    def put_party(
        self, aggregate_id: str, key: PartyKey | None, business_details: dict[str, Any], at: str
    ) -> None: ...
    def put_route(
        self,
        aggregate_id: str,
        route_key: str,
        kind: str | None,
        status: ConnectionStatus,
        backend_url: str | None,
        at: str,
    ) -> None:
        """Create or update a route; `kind` None keeps the kind and backend already held."""

    def remove_route(self, aggregate_id: str, route_key: str) -> None: ...


def _endpoints(endpoints: list[dict[str, str]]) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (e.get("identifier", ""), e.get("role", ""), e.get("url", "")) for e in endpoints or []
    )


def _roles(roles: list[dict[str, Any]]) -> tuple[PartyKey, ...]:
    keys = []
    for role in roles or []:
        try:
            keys.append(PartyKey(role["country_code"], role["party_id"], role["role"]))
        except (KeyError, ValueError):
            continue
    return tuple(keys)


class RoutingTableProjection(Projection[RoutingTableWriter]):
    name = "routing_table"

    def process(self, event: Any, writer: RoutingTableWriter) -> None:
        at = event.timestamp.isoformat()
        if isinstance(event, Connection.Opened):
            writer.put_connection(
                ConnectionEntry(
                    id=str(event.originator_id),
                    label=event.label,
                    initiated_by=event.initiated_by,
                    status=ConnectionStatus.PLANNED,
                    versions_url=event.versions_url,
                    token_a_hash=event.token_a_hash,
                    updated_at=at,
                    created_at=at,
                )
            )
            return
        party_id = str(event.originator_id)
        if isinstance(event, Party.Registered):
            key = PartyKey(event.country_code, event.party_id, Role(event.role))
            writer.put_party(party_id, key, event.business_details, at)
            return
        if isinstance(event, Party.DetailsUpdated):
            writer.put_party(party_id, None, event.business_details, at)
            return
        if isinstance(event, Party.RouteAdded):
            status = ConnectionStatus(event.status)
            writer.put_route(party_id, event.route_key, event.kind, status, event.backend_url, at)
            return
        if isinstance(event, Party.RouteStatusChanged):
            status = ConnectionStatus(event.status)
            writer.put_route(party_id, event.route_key, None, status, None, at)
            return
        if isinstance(event, Party.RouteRemoved):
            writer.remove_route(party_id, event.route_key)
            return
        if isinstance(event, Connection.Event):
            current = writer.get_connection(str(event.originator_id))
            if current is not None:
                writer.put_connection(self._apply_connection_event(current, event, at))

    @staticmethod
    def _apply_connection_event(entry: ConnectionEntry, event: Any, at: str) -> ConnectionEntry:
        if isinstance(event, Connection.HandshakeStarted):
            versions_url = entry.versions_url
            if not entry.is_registered:
                versions_url = event.versions_url
            return replace(
                entry,
                versions_url=versions_url,
                pending_inbound_token_hash=event.pending_inbound_token_hash,
                status_reason=f"handshake started ({event.purpose})",
                updated_at=at,
            )
        if isinstance(event, Connection.HandshakeFailed):
            return replace(
                entry, pending_inbound_token_hash=None, status_reason=event.reason, updated_at=at
            )
        if isinstance(event, Connection.Registered):
            return replace(
                entry,
                status=ConnectionStatus.CONNECTED,
                version=event.version,
                versions_url=event.versions_url,
                endpoints=_endpoints(event.endpoints),
                roles=_roles(event.roles),
                token_a_hash=None,
                inbound_token_hash=event.inbound_token_hash,
                outbound_token=event.outbound_token,
                outbound_token_encoding=event.outbound_token_encoding,
                pending_inbound_token_hash=None,
                status_reason="registered",
                updated_at=at,
            )
        if isinstance(event, Connection.CredentialsUpdated):
            return replace(
                entry,
                version=event.version,
                versions_url=getattr(event, "versions_url", None) or entry.versions_url,
                endpoints=_endpoints(event.endpoints),
                roles=_roles(event.roles),
                inbound_token_hash=event.inbound_token_hash,
                outbound_token=event.outbound_token,
                pending_inbound_token_hash=None,
                status_reason=f"credentials updated by {event.initiated_by}",
                updated_at=at,
            )
        status_events: dict[type, ConnectionStatus] = {
            Connection.Suspended: ConnectionStatus.SUSPENDED,
            Connection.Reactivated: ConnectionStatus.CONNECTED,
            Connection.WentOffline: ConnectionStatus.OFFLINE,
            Connection.CameOnline: ConnectionStatus.CONNECTED,
        }
        if type(event) in status_events:
            return replace(
                entry, status=status_events[type(event)], status_reason=event.reason, updated_at=at
            )
        if isinstance(event, Connection.VersionProposed):
            return replace(
                entry, proposed_version=event.version, proposed_role=event.role, updated_at=at
            )
        if isinstance(event, Connection.LeniencySet):
            return replace(entry, leniency=Leniency(event.leniency), updated_at=at)
        if isinstance(event, Connection.TranslationPolicySet):
            return replace(entry, refuse_losing=tuple(event.refuse_losing), updated_at=at)
        if isinstance(event, Connection.Unregistered):
            return replace(
                entry,
                status=ConnectionStatus.SUSPENDED,
                unregistered=True,
                inbound_token_hash=None,
                outbound_token=None,
                token_a_hash=None,
                pending_inbound_token_hash=None,
                status_reason=event.reason,
                updated_at=at,
            )
        return entry


class InMemoryRoutingTable(TrackedView[RoutingTableWriter]):
    """The routing table the hot path reads: plain dicts behind a lock, no I/O per lookup.

    Reads take no lock: each write replaces whole immutable entries, and a dict lookup sees
    either the old or the new entry, never half of one.
    """

    def __init__(self) -> None:
        self._position = 0
        self._lock = threading.Lock()
        self._connections: dict[str, ConnectionEntry] = {}
        self._parties: dict[str, PartyEntry] = {}
        self._by_ref: dict[PartyRef, list[str]] = {}
        self._by_inbound_token: dict[str, str] = {}
        self._by_token_a: dict[str, str] = {}
        self._last_seen: dict[str, float] = {}

    # ---- TrackedView -------------------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def apply_batch(
        self,
        projection: Projection[RoutingTableWriter],
        events: Sequence[Any],
        from_position: int,
        to_position: int,
    ) -> bool:
        with self._lock:
            if self._position != from_position:
                return False
            for event in events:
                projection.process(event, self)
            self._position = to_position
            return True

    def reset(self) -> None:
        with self._lock:
            self.__init__()  # type: ignore[misc]

    # ---- RoutingTableWriter ------------------------------------------------------------------

    def put_connection(self, entry: ConnectionEntry) -> None:
        old = self._connections.get(entry.id)
        if old is not None:
            self._by_inbound_token.pop(old.inbound_token_hash or "", None)
            self._by_inbound_token.pop(old.pending_inbound_token_hash or "", None)
            self._by_token_a.pop(old.token_a_hash or "", None)
        self._connections[entry.id] = entry
        # A pending token (ours, handed over mid-handshake) authenticates like the current one:
        # the peer calls us back with it before the handshake completes.
        for token_hash in (entry.inbound_token_hash, entry.pending_inbound_token_hash):
            if token_hash:
                self._by_inbound_token[token_hash] = entry.id
        if entry.token_a_hash:
            self._by_token_a[entry.token_a_hash] = entry.id

    def get_connection(self, connection_id: str) -> ConnectionEntry | None:
        return self._connections.get(connection_id)

    def put_party(
        self, aggregate_id: str, key: PartyKey | None, business_details: dict[str, Any], at: str
    ) -> None:
        entry = self._parties.get(aggregate_id)
        if entry is None:
            if key is None:
                return
            entry = PartyEntry(key=key, business_details=business_details, updated_at=at)
            self._parties[aggregate_id] = entry
            self._by_ref.setdefault(key.ref, []).append(aggregate_id)
        else:
            entry.business_details = business_details
            entry.updated_at = at

    def put_route(
        self,
        aggregate_id: str,
        route_key: str,
        kind: str | None,
        status: ConnectionStatus,
        backend_url: str | None,
        at: str,
    ) -> None:
        entry = self._parties.get(aggregate_id)
        if entry is None:
            return
        old = entry.routes.get(route_key)
        if kind is None:
            if old is None:
                return
            route = replace(old, status=status, updated_at=at)
        else:
            route = RouteEntry(entry.key, route_key, kind, status, backend_url, at)
        entry.routes = {**entry.routes, route_key: route}

    def remove_route(self, aggregate_id: str, route_key: str) -> None:
        entry = self._parties.get(aggregate_id)
        if entry is not None and route_key in entry.routes:
            entry.routes = {k: v for k, v in entry.routes.items() if k != route_key}

    # ---- queries (hot path) ------------------------------------------------------------------

    def connection(self, connection_id: str) -> ConnectionEntry | None:
        return self._connections.get(connection_id)

    def connection_by_token_hash(self, token_hash: str) -> ConnectionEntry | None:
        connection_id = self._by_inbound_token.get(token_hash)
        return self._connections.get(connection_id) if connection_id else None

    def connection_by_token_a_hash(self, token_hash: str) -> ConnectionEntry | None:
        connection_id = self._by_token_a.get(token_hash)
        return self._connections.get(connection_id) if connection_id else None

    def connections(self) -> list[ConnectionEntry]:
        return list(self._connections.values())

    def parties(self, ref: PartyRef | None = None) -> list[PartyEntry]:
        if ref is None:
            return list(self._parties.values())
        return [self._parties[i] for i in self._by_ref.get(ref, ())]

    def routes_to(self, ref: PartyRef) -> list[RouteEntry]:
        """Routes to every role of (country_code, party_id): routing headers carry no role."""
        routes: list[RouteEntry] = []
        for aggregate_id in self._by_ref.get(ref, ()):
            routes.extend(self._parties[aggregate_id].routes.values())
        return routes

    def touch(self, connection_id: str) -> None:
        """Note an inbound request from the connection (the health check skips busy peers)."""
        self._last_seen[connection_id] = time.monotonic()

    def last_seen(self, connection_id: str) -> float | None:
        return self._last_seen.get(connection_id)

    def parties_on_connection(self, connection_id: str) -> list[PartyKey]:
        return [party.key for party in self._parties.values() if connection_id in party.routes]
