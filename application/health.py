"""Still-alive checks (digest §5.4): a peer silent for `interval` gets a GET on its versions.

Failure marks its parties OFFLINE, a later success CONNECTED again; both are registry events.
An OFFLINE peer is probed once per interval whatever it sends, because only a probe brings it
back. "Silent" means no inbound request, as noted by authenticate() in the routing table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from uuid import UUID

from application.credentials import PeerClient, PeerUnavailableError
from application.registry import Registry
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.values import ConnectionStatus

log = logging.getLogger(__name__)

PROBED = (ConnectionStatus.CONNECTED, ConnectionStatus.OFFLINE)


class HealthChecker:
    def __init__(
        self,
        registry: Registry,
        table: InMemoryRoutingTable,
        peers: PeerClient,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.table = table
        self.peers = peers
        self.interval = interval
        self.clock = clock
        self._noticed: dict[str, float] = {}
        self._probed: dict[str, float] = {}

    def check_once(self) -> dict[str, bool]:
        """Probe every peer that is due; returns connection id -> whether it answered."""
        now = self.clock()
        results: dict[str, bool] = {}
        for connection in self.table.connections():
            if not self._due(connection, now):
                continue
            self._probed[connection.id] = now
            alive = self._probe(connection)
            results[connection.id] = alive
            if alive and connection.status is ConnectionStatus.OFFLINE:
                self.registry.mark_connection_online(
                    UUID(connection.id), "versions endpoint answers again"
                )
            elif not alive and connection.status is ConnectionStatus.CONNECTED:
                self.registry.mark_connection_offline(
                    UUID(connection.id),
                    f"silent for {self.interval:g}s and versions endpoint not answering",
                )
        return results

    def _due(self, connection: ConnectionEntry, now: float) -> bool:
        if not connection.is_registered or connection.status not in PROBED:
            return False
        if not connection.outbound_token or not connection.versions_url:
            return False
        # A peer we have never heard from counts from when we first noticed it, not from zero.
        noticed = self._noticed.setdefault(connection.id, now)
        last = max(noticed, self._probed.get(connection.id, 0.0))
        if connection.status is ConnectionStatus.CONNECTED:
            last = max(last, self.table.last_seen(connection.id) or 0.0)
        return now - last >= self.interval

    def _probe(self, connection: ConnectionEntry) -> bool:
        try:
            answer = self.peers.call(
                "GET",
                connection.versions_url or "",
                connection.outbound_token or "",
                connection.outbound_token_encoding,
            )
        except PeerUnavailableError as error:
            log.info("still-alive check of connection %s failed: %s", connection.id, error)
            return False
        return answer.ok
