"""Start-up hook of the audit read models: the audit and traffic views with their runners over
the message ledger, the ledger archive (chain, bodies) and, if configured, body retention."""

from __future__ import annotations

from api.node import Node
from application.audit import AuditProjection
from application.traffic import TrafficProjection
from infrastructure.audit_view import SqlAuditView
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.retention import RetentionSweeper
from infrastructure.traffic_view import SqlTrafficView

LEDGER_VIEW_INTERVAL = 0.2


def install_audit(node: Node) -> None:
    store = node.store
    audit = SqlAuditView(store.ledger_db)
    audit.unknown_after = node.settings.forward_timeout + 1.0
    traffic = SqlTrafficView(store.ledger_db)
    # The ledger takes every routed message: its views follow in batches (at most 5 a second
    # while traffic flows), so they cost the routing hot path little CPU and few transactions.
    for projection, view in ((AuditProjection(), audit), (TrafficProjection(), traffic)):
        runner = ProjectionRunner(store.ledger, projection, view, min_interval=LEDGER_VIEW_INTERVAL)
        node.add_runner(runner, store.ledger)
    node.services["audit_view"] = audit
    node.services["traffic_view"] = traffic
    node.services["ledger_archive"] = LedgerArchive(store.ledger_db)
    days = node.settings.body_retention_days
    if days is not None:
        node.services["body_retention"] = RetentionSweeper(
            store.ledger, store.ledger_db, days
        ).start()
