"""Start-up hook of the hub object store: the projection of broadcast pushes in the message ledger
that GET All answers from, its runner, and the read side routing uses (waits for the runner)."""

from __future__ import annotations

from api.node import Node
from application.hub_objects import CaughtUpObjects, HubObjectsProjection
from infrastructure.hub_object_store import SqlHubObjectsView
from infrastructure.projection_runner import ProjectionRunner

# Paced like the other ledger views, and woken by pushes (CaughtUpObjects.pushed) and by reads
# that wait for it, not by every ledger commit: following each commit cost a read, a decode
# and a transaction per routed message (the node's throughput fell by a third in the
# benchmark). A reader waiting for it cuts the pause short (ProjectionRunner.wait).
HUB_OBJECTS_INTERVAL = 0.2
READ_TIMEOUT = 5.0


def install_hub_objects(node: Node) -> None:
    store = node.store
    view = SqlHubObjectsView(store.ledger_db)
    runner = ProjectionRunner(
        store.ledger, HubObjectsProjection(), view, min_interval=HUB_OBJECTS_INTERVAL
    )
    # Not node.add_runner: that would wake it on every save and every NOTIFY of the ledger.
    # Pushes through other nodes sharing the store are picked up by its 1 s poll.
    node.runners[runner.name] = runner
    # Pushes answered before a restart must show in the first GET All after it: reads wait for
    # the runner to reach the ledger head of start-up (one query, here, not per read).
    head = store.ledger.recorder.max_notification_id() or 0
    node.services.hub_objects = CaughtUpObjects(view, runner, head, READ_TIMEOUT)
