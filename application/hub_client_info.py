"""Hub client info (digest §5): which parties exist behind the hub, and pushing their changes.

The notifier follows the registry log with a position of its own and pushes *after* the events
are stored: at least once (a crash between push and position save repeats the push, which a
PUT of the same ClientInfo makes harmless), never inside a projection transaction. Pushes that
fail are not queued or retried (the spec says SHOULD NOT queue); the receiver can GET the list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

from application.credentials import PeerClient, PeerUnavailableError
from application.registry import Registry
from application.routing_table import ConnectionEntry, InMemoryRoutingTable, PartyEntry
from domain.connections import Connection
from domain.parties import Party, party_aggregate_id
from domain.values import ConnectionStatus, InterfaceRole, ModuleId
from domain.versions import version_has_role

log = logging.getLogger(__name__)

_PREFERENCE = (
    ConnectionStatus.CONNECTED,
    ConnectionStatus.OFFLINE,
    ConnectionStatus.PLANNED,
    ConnectionStatus.SUSPENDED,
)


def ocpi_datetime(iso: str) -> str:
    moment = datetime.fromisoformat(iso) if iso else datetime.fromtimestamp(0, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def party_status(entry: PartyEntry) -> ConnectionStatus:
    """The best status over the party's routes; a party without routes is gone (SUSPENDED)."""
    statuses = {route.status for route in entry.routes.values()}
    return next((s for s in _PREFERENCE if s in statuses), ConnectionStatus.SUSPENDED)


def client_info(entry: PartyEntry) -> dict[str, Any]:
    stamps = [entry.updated_at, *(route.updated_at for route in entry.routes.values())]
    return {
        "party_id": entry.key.party_id,
        "country_code": entry.key.country_code,
        "role": str(entry.key.role),
        "status": str(party_status(entry)),
        "last_updated": ocpi_datetime(max(s for s in stamps if s) if any(stamps) else ""),
    }


def representable(entry: PartyEntry, version: str | None) -> bool:
    """A party a peer of OCPI `version` can be told of: no PTP toward 2.2.1 (digest §11)."""
    return version_has_role(version, entry.key.role)


def client_infos_for(
    table: InMemoryRoutingTable, connection_id: str, version: str | None = None
) -> list[dict[str, Any]]:
    """Every party the hub knows that a peer of `version` can name, except the asking
    platform's own, oldest change first."""
    infos = [
        client_info(p)
        for p in table.parties()
        if connection_id not in p.routes and representable(p, version)
    ]
    return sorted(
        infos, key=lambda i: (i["last_updated"], i["country_code"], i["party_id"], i["role"])
    )


def receiver_url(connection: ConnectionEntry) -> str | None:
    return connection.endpoint_url(ModuleId.HUB_CLIENT_INFO, InterfaceRole.RECEIVER)


def receivers(table: InMemoryRoutingTable) -> list[ConnectionEntry]:
    """Connected platforms that implement the hubclientinfo Receiver interface."""
    return [
        c
        for c in table.connections()
        if c.is_registered
        and c.status is ConnectionStatus.CONNECTED
        and c.outbound_token
        and receiver_url(c)
    ]


class PositionStore(Protocol):
    def get(self, name: str) -> int: ...
    def set(self, name: str, position: int) -> None: ...


class HubClientInfoNotifier:
    """Turns registry events into ClientInfo PUTs on every other connected platform."""

    name = "hubclientinfo_notifier"

    def __init__(
        self,
        registry: Registry,
        table: InMemoryRoutingTable,
        positions: PositionStore,
        peers: PeerClient,
        wait_for_table: Callable[[int], None],
        batch_size: int = 200,
        parallel: int = 4,
    ) -> None:
        self.registry = registry
        self.table = table
        self.positions = positions
        self.peers = peers
        self.wait_for_table = wait_for_table
        self.batch_size = batch_size
        self.pool = ThreadPoolExecutor(parallel, thread_name_prefix="clientinfo-push")
        self.pushed = 0
        self.failed = 0

    def step(self) -> int:
        start = self.positions.get(self.name)
        notifications = self.registry.recorder.select_notifications(
            start, self.batch_size, inclusive_of_start=False
        )
        if not notifications:
            return 0
        end = notifications[-1].id
        self.wait_for_table(end)
        changed: set[str] = set()
        new_connections: list[str] = []
        for notification in notifications:
            event = self.registry.mapper.to_domain_event(notification)
            if isinstance(event, Party.Event):
                changed.add(str(event.originator_id))
            elif isinstance(event, Connection.Registered):
                new_connections.append(str(event.originator_id))
        self._push_all(self._pushes(changed, new_connections))
        self.positions.set(self.name, end)
        return len(notifications)

    def _pushes(
        self, changed: set[str], new_connections: list[str]
    ) -> list[tuple[ConnectionEntry, dict[str, Any]]]:
        targets = receivers(self.table)
        parties = [p for p in self.table.parties() if self._aggregate_id(p) in changed]
        pushes: list[tuple[ConnectionEntry, dict[str, Any]]] = []
        for target in targets:
            if target.id in new_connections:
                # A newly registered platform gets the full list instead of the changes.
                infos = client_infos_for(self.table, target.id, target.version)
                pushes.extend((target, info) for info in infos)
                continue
            for party in parties:
                if target.id not in party.routes and representable(party, target.version):
                    pushes.append((target, client_info(party)))
        return pushes

    @staticmethod
    def _aggregate_id(entry: PartyEntry) -> str:
        return str(party_aggregate_id(entry.key))

    def _push_all(self, pushes: list[tuple[ConnectionEntry, dict[str, Any]]]) -> None:
        for ok in self.pool.map(lambda push: self._push(*push), pushes):
            if ok:
                self.pushed += 1
            else:
                self.failed += 1

    def _push(self, target: ConnectionEntry, info: dict[str, Any]) -> bool:
        url = (
            f"{(receiver_url(target) or '').rstrip('/')}/{info['country_code']}/{info['party_id']}"
        )
        try:
            answer = self.peers.call(
                "PUT", url, target.outbound_token or "", target.outbound_token_encoding, info
            )
        except PeerUnavailableError as error:
            log.warning("client info push to connection %s failed: %s", target.id, error)
            return False
        if not answer.ok:
            log.warning("client info push to %s answered %s", target.id, answer.describe())
        return answer.ok

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
