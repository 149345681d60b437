"""Connections accepted by a multi-worker node send small writes at once (TCP_NODELAY); a served
process keeps its start-up objects out of the cyclic collector's way."""

from __future__ import annotations

import gc
import socket

from api.serving import COLLECT_AFTER, NoDelayConfig, quiet_collector


def test_connections_accepted_on_the_workers_shared_socket_have_tcp_nodelay() -> None:
    config = NoDelayConfig("api.main:app", host="127.0.0.1", port=0, workers=2)
    listener = config.bind_socket()
    try:
        listener.listen()
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_a_served_process_leaves_what_start_up_built_out_of_the_collectors_scans() -> None:
    threshold = gc.get_threshold()
    built_at_start_up = {"routing table": [object()]}
    try:
        quiet_collector()
        assert gc.get_freeze_count() > 0
        # Frozen: a full collection no longer traverses it (no referrer found through it).
        referrers = gc.get_referrers(built_at_start_up["routing table"])
        assert not any(r is built_at_start_up for r in referrers)
        assert gc.get_threshold() == (COLLECT_AFTER, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
