"""How the node's processes run: uvicorn's workers without 40 ms stalls, and a quieter collector.

uvicorn binds the workers' shared socket as `socket.socket(family)`, without IPPROTO_TCP, so
asyncio never sets TCP_NODELAY on the connections it accepts: a response written in two parts
(headers, then body) waits for the client's delayed ACK, about 40 ms. Linux copies TCP_NODELAY
from a listening socket to the sockets it accepts, so setting it on the shared socket fixes
every connection of every worker. One worker is unaffected (asyncio binds that socket itself).
"""

from __future__ import annotations

import contextlib
import gc
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

COLLECT_AFTER = 10_000
"""Container allocations (net) between two youngest-generation collections (CPython: 700)."""


def quiet_collector() -> None:
    """Take what is built by now (modules, classes, the app) out of the cyclic collector's
    scans, and collect the youngest generation after 10,000 allocations instead of 700.

    A routed message allocates a few hundred short-lived containers, so at CPython's defaults a
    saturated node collected every other request and, every few hundred requests, scanned every
    object of the process (~130,000; ~75 ms each, the GIL held throughout). Measured at
    saturation (node PostgreSQL, 1 worker, ~4,000 requests): 1.0-1.4 s in the collector
    before, 0.2-0.3 s after (bench/README.md entry 30). Frozen objects are never freed: call it
    once, after start-up built what lives as long as the process.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(COLLECT_AFTER, older, oldest)


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
