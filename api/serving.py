"""Running uvicorn with several worker processes without 40 ms stalls.

uvicorn binds the workers' shared socket as `socket.socket(family)`, without IPPROTO_TCP, so
asyncio never sets TCP_NODELAY on the connections it accepts: a response written in two parts
(headers, then body) waits for the client's delayed ACK, about 40 ms. Linux copies TCP_NODELAY
from a listening socket to the sockets it accepts, so setting it on the shared socket fixes
every connection of every worker. One worker is unaffected (asyncio binds that socket itself).
"""

from __future__ import annotations

import contextlib
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class NoDelayConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def run_workers(app: str, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve the ASGI app at import path `app` from `workers` processes."""
    config = NoDelayConfig(app, host=host, port=port, workers=workers, log_level=log_level)
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[config.bind_socket()]).run()
