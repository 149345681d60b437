"""Connections accepted by a multi-worker node send small writes at once (TCP_NODELAY)."""

from __future__ import annotations

import socket

from api.serving import NoDelayConfig


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
