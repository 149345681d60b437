"""The routing table as it was at any instant: the registry log replayed up to it.

Every registry event with a timestamp at or before the instant is fed, in log order, into a
fresh in-memory routing table. The registry log is small (connections and parties, not
traffic), so a full replay answers in milliseconds to a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.application import Application

from application.routing_table import InMemoryRoutingTable, RoutingTableProjection


def _batches(
    registry: Application[Any], batch_size: int
) -> Iterator[tuple[Sequence[Any], list[Any]]]:
    """The registry log in batches: (its notifications, their events), oldest first."""
    position = 0
    while True:
        notifications = registry.recorder.select_notifications(
            position, batch_size, inclusive_of_start=False
        )
        if not notifications:
            return
        position = notifications[-1].id
        yield notifications, [registry.mapper.to_domain_event(n) for n in notifications]


def routing_table_as_of(
    registry: Application[Any], instant: datetime, batch_size: int = 1000
) -> InMemoryRoutingTable:
    return replay_registry(registry, instant, batch_size)[0]


def replay_registry(
    registry: Application[Any], instant: datetime, batch_size: int = 1000
) -> tuple[InMemoryRoutingTable, int]:
    """The routing table at `instant`, and the notification id of the last registry record it
    replayed (0 if none): with the registry's chain link of that record, the answer names the
    evidence it rests on."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    table = InMemoryRoutingTable()
    projection = RoutingTableProjection()
    replayed = 0
    for notifications, events in _batches(registry, batch_size):
        kept = [
            (n, e) for n, e in zip(notifications, events, strict=True) if e.timestamp <= instant
        ]
        table.apply_batch(projection, [e for _, e in kept], table.position(), notifications[-1].id)
        if kept:
            replayed = kept[-1][0].id
    return table, replayed


def registry_changes(
    registry: Application[Any], batch_size: int = 1000
) -> list[tuple[datetime, str, str]]:
    """Every change of the registry, oldest first: (when, event, connection or party id),
    the instants at which `routing_table_as_of` gives a different table."""
    return [
        (event.timestamp, type(event).__qualname__, str(event.originator_id))
        for _notifications, events in _batches(registry, batch_size)
        for event in events
    ]


def describe(table: InMemoryRoutingTable, instant: datetime) -> dict[str, Any]:
    """The table for people and scripts: parties with their routes, connections without tokens."""
    parties = sorted(
        table.parties(), key=lambda p: (p.key.country_code, p.key.party_id, str(p.key.role))
    )
    return {
        "as_of": instant.isoformat(),
        "parties": [
            {
                "party": f"{p.key.country_code}*{p.key.party_id}",
                "role": str(p.key.role),
                "name": (p.business_details or {}).get("name"),
                "routes": [
                    {
                        "route_key": r.route_key,
                        "kind": r.kind,
                        "status": str(r.status),
                        "backend_url": r.backend_url,
                        "since": r.updated_at,
                    }
                    for r in sorted(p.routes.values(), key=lambda r: r.route_key)
                ],
                "routable": any(str(r.status) == "CONNECTED" for r in p.routes.values()),
            }
            for p in parties
        ],
        "connections": [
            {
                "id": c.id,
                "label": c.label,
                "status": str(c.status),
                "unregistered": c.unregistered,
                "version": c.version,
                "versions_url": c.versions_url,
                "roles": [f"{k.country_code}*{k.party_id}:{k.role}" for k in c.roles],
                "status_reason": c.status_reason,
                "since": c.updated_at,
            }
            for c in sorted(table.connections(), key=lambda c: (c.updated_at, c.id))
        ],
    }
