"""The still-alive checker on the POPO store with a fake clock and a fake peer."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from application.credentials import PeerAnswer, PeerUnavailableError
from application.health import HealthChecker
from application.registry import Registry
from application.routing_table import InMemoryRoutingTable, RoutingTableProjection
from application.tokens import hash_token
from domain.values import ConnectionStatus


class FakePeers:
    def __init__(self) -> None:
        self.up = True
        self.calls: list[str] = []

    def call(
        self, method: str, url: str, token: str, encoding: str, body: Any = None
    ) -> PeerAnswer:
        self.calls.append(url)
        if not self.up:
            raise PeerUnavailableError("refused")
        return PeerAnswer(200, 1000, "", [])


@pytest.fixture
def registry() -> Iterator[Registry]:
    app = Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def sync(registry: Registry, table: InMemoryRoutingTable) -> None:
    start = table.position()
    notifications = registry.recorder.select_notifications(start, 1000, inclusive_of_start=False)
    events = [registry.mapper.to_domain_event(n) for n in notifications]
    if notifications:
        table.apply_batch(RoutingTableProjection(), events, start, notifications[-1].id)


def test_only_silent_peers_are_probed_and_failures_toggle_offline_and_back(
    registry: Registry,
) -> None:
    connection_id, _, _ = registry.invite("p")
    registry.register_connection(connection_id, "2.2.1", "http://p/v", [], [], hash_token("c"), "b")
    table, peers, now = InMemoryRoutingTable(), FakePeers(), [100.0]
    sync(registry, table)
    checker = HealthChecker(registry, table, peers, interval=10, clock=lambda: now[0])
    assert checker.check_once() == {}  # first noticed now: not silent yet
    now[0] = 109
    assert checker.check_once() == {}
    table._last_seen[str(connection_id)] = 108  # it called us
    now[0] = 112
    assert checker.check_once() == {}
    peers.up = False
    now[0] = 119
    assert checker.check_once() == {str(connection_id): False}
    sync(registry, table)
    assert table.connection(str(connection_id)).status is ConnectionStatus.OFFLINE
    now[0] = 125
    assert checker.check_once() == {}  # probed 6 s ago
    peers.up = True
    now[0] = 130
    assert checker.check_once() == {str(connection_id): True}
    assert registry.get_connection(UUID(str(connection_id))).status is ConnectionStatus.CONNECTED
