"""Start-up hook of signed checkpoints: the node's signing key, the registry's chain archive,
the checkpoint service and its periodic loop (a checkpoint when a chain moved)."""

from __future__ import annotations

import logging

from api.node import Node
from application.checkpoints import Checkpoints
from infrastructure.background_loop import BackgroundLoop
from infrastructure.checkpoints import SqlCheckpointStore, load_signer, sink_for
from infrastructure.ledger_chain import LedgerArchive, adopt_unchained

log = logging.getLogger(__name__)


def install_checkpoints(node: Node) -> None:
    settings, store = node.settings, node.store
    signer = load_signer(settings.signing_key, store.registry_db)
    registry_archive = LedgerArchive(store.registry_db, "registry")
    adopted = adopt_unchained(registry_archive)
    if adopted:
        log.warning("chained %d registry events recorded before the registry was chained", adopted)
    node.services.registry_archive = registry_archive
    checkpoints = Checkpoints(
        signer,
        str(settings.party),
        [node.services.ledger_archive, registry_archive],
        SqlCheckpointStore(store.ledger_db),
        sink_for(settings.checkpoint_sink),
    )
    node.services.checkpoints = checkpoints
    node.runners["checkpoints"] = BackgroundLoop(
        "checkpoints", checkpoints.step, idle=settings.checkpoint_interval, idle_first=True
    )
