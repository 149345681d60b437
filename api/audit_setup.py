"""Start-up hook of the audit read models: the audit and traffic views with their runners over
the message ledger, the ledger archive (chain, bodies) and, if configured, body retention.

With `OCPI_LEDGER_LEDGER_VIEWS=process` (or `external`) the views are followed by another
process (`ocpi-ledger views`, see api/views_process.py) and this one only reads them: the
routing process then spends no CPU and no GIL on the ledger's read models.
"""

from __future__ import annotations

from typing import Any

from api.node import Node
from application.audit import AuditProjection
from application.projection import Projection
from application.traffic import TrafficProjection
from infrastructure.audit_view import SqlAuditView
from infrastructure.detached_runner import DetachedRunner
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.retention import RetentionSweeper
from infrastructure.settings import Settings
from infrastructure.store import Store
from infrastructure.tracked_view import SqlTrackedView
from infrastructure.traffic_view import SqlTrafficView

LEDGER_VIEW_INTERVAL = 0.2


def ledger_views(
    store: Store, settings: Settings
) -> list[tuple[Projection[Any], SqlTrackedView[Any]]]:
    """The ledger's read models, the same whichever process follows them."""
    audit = SqlAuditView(store.ledger_db)
    audit.unknown_after = settings.forward_timeout + 1.0
    return [(AuditProjection(), audit), (TrafficProjection(), SqlTrafficView(store.ledger_db))]


def ledger_view_runner(
    store: Store, projection: Projection[Any], view: SqlTrackedView[Any], poll: float = 1.0
) -> ProjectionRunner:
    # The ledger takes every routed message: its views follow in batches (at most 5 a second
    # while traffic flows), so they cost few transactions and little CPU per message.
    return ProjectionRunner(
        store.ledger, projection, view, poll_interval=poll, min_interval=LEDGER_VIEW_INTERVAL
    )


def install_audit(node: Node) -> None:
    store = node.store
    views = ledger_views(store, node.settings)
    for projection, view in views:
        if node.settings.ledger_views == "inline":
            runner: Any = ledger_view_runner(store, projection, view)
        else:
            runner = DetachedRunner(projection.name, store.ledger, view)
        node.add_runner(runner, store.ledger)
    audit, traffic = (view for _, view in views)
    assert isinstance(audit, SqlAuditView) and isinstance(traffic, SqlTrafficView)
    node.services.audit_view = audit
    node.services.traffic_view = traffic
    node.services.ledger_archive = LedgerArchive(store.ledger_db)
    days = node.settings.body_retention_days
    if days is not None:
        node.services.body_retention = RetentionSweeper(store.ledger, store.ledger_db, days).start()
