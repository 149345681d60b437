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


def install_audit(node: Node) -> None:
    store = node.store
    audit = SqlAuditView(store.ledger_db)
    audit.unknown_after = node.settings.forward_timeout + 1.0
    traffic = SqlTrafficView(store.ledger_db)
    node.add_runner(ProjectionRunner(store.ledger, AuditProjection(), audit), store.ledger)
    node.add_runner(ProjectionRunner(store.ledger, TrafficProjection(), traffic), store.ledger)
    node.services["audit_view"] = audit
    node.services["traffic_view"] = traffic
    node.services["ledger_archive"] = LedgerArchive(store.ledger_db)
    days = node.settings.body_retention_days
    if days is not None:
        node.services["body_retention"] = RetentionSweeper(
            store.ledger, store.ledger_db, days
        ).start()
