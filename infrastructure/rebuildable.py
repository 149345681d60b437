"""The read models an operator may rebuild from event zero: the one list behind
`ocpi-ledger rebuild` (online and offline) and POST /admin/projections/{name}/rebuild.

Each name (its projection's `name`) opens the projection, the event store it follows and the
SQL view that holds its rows. The in-memory routing table is not here: every start rebuilds it.
The classes are imported when a read model is opened, not with this module: the CLI lists the
names on every run and must not pay for loading the read models to do so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from application.base import NotifyingApplication
    from application.projection import Projection
    from infrastructure.store import Store
    from infrastructure.tracked_view import SqlTrackedView

    ReadModel = tuple[NotifyingApplication, Projection[Any], SqlTrackedView[Any]]


def _routing_table(store: Store) -> ReadModel:
    from application.routing_table import RoutingTableProjection
    from infrastructure.routing_table_view import SqlRoutingTableView

    return store.registry, RoutingTableProjection(), SqlRoutingTableView(store.registry_db)


def _audit(store: Store) -> ReadModel:
    from application.audit import AuditProjection
    from infrastructure.audit_view import SqlAuditView

    return store.ledger, AuditProjection(), SqlAuditView(store.ledger_db)


def _traffic(store: Store) -> ReadModel:
    from application.traffic import TrafficProjection
    from infrastructure.traffic_view import SqlTrafficView

    return store.ledger, TrafficProjection(), SqlTrafficView(store.ledger_db)


def _hub_objects(store: Store) -> ReadModel:
    from application.hub_objects import HubObjectsProjection
    from infrastructure.hub_object_store import SqlHubObjectsView

    return store.ledger, HubObjectsProjection(), SqlHubObjectsView(store.ledger_db)


REBUILDABLE: dict[str, Callable[[Store], ReadModel]] = {
    "routing_table": _routing_table,
    "audit": _audit,
    "traffic": _traffic,
    "hub_objects": _hub_objects,
}
"""By projection name, in the order commands and errors list them."""
