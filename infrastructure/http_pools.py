"""The TLS context every outbound client shares, and connection pools for one origin split into
small httpx clients (the httpx bench proxy's; the node forwards with aiohttp since issue 15).

httpcore scans every connection of a pool twice per request (when it starts and when it ends),
and each look at a connection costs a `getpeername` and a readiness `select` through anyio: with
32 requests in flight to one receiver, that scan was a quarter of the event loop's CPU. Several
small pools, used least busy first, keep each scan to a handful of connections while the
origin still gets as many connections as it needs.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache

import httpx


def cache_missing_sniffio() -> None:
    """httpcore imports `sniffio` on every lock, event and shield it makes (several per
    request); without sniffio installed each attempt searches sys.path again, about a tenth
    of a forward's CPU when forwarding went through httpx. A None entry in sys.modules makes
    the miss immediate (the registration client and the httpx bench proxy still use httpx)."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


cache_missing_sniffio()


@cache
def shared_ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """One verified TLS context for every client: building one loads the CA bundle (ms, MBs).
    `ca_bundle` (PEM) adds the CAs of partners' test systems to the public ones."""
    context = httpx.create_ssl_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


class ShardedPool:
    """Up to `connections` keep-alive connections to one origin, in clients of `shard_size`.

    A request takes the least busy client, so while fewer than `connections` requests are in
    flight (callers bound that) none of them queues inside httpcore. Clients are made on
    demand: a receiver that never sees more than one request at a time keeps one connection.
    """

    def __init__(
        self,
        make_client: Callable[[int], httpx.AsyncClient],
        connections: int,
        shard_size: int = 4,
    ) -> None:
        self._make_client = make_client
        self.shard_size = max(1, min(shard_size, connections))
        self.max_shards = -(-connections // self.shard_size)
        self._clients: list[httpx.AsyncClient] = []
        self._busy: list[int] = []

    @property
    def shards(self) -> int:
        return len(self._clients)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        index = self._least_busy()
        self._busy[index] += 1
        try:
            yield self._clients[index]
        finally:
            self._busy[index] -= 1

    def _least_busy(self) -> int:
        busy = self._busy
        index = min(range(len(busy)), key=busy.__getitem__) if busy else -1
        if index < 0 or (busy[index] >= self.shard_size and len(busy) < self.max_shards):
            self._clients.append(self._make_client(self.shard_size))
            busy.append(0)
            index = len(busy) - 1
        return index

    async def aclose(self) -> None:
        clients, self._clients, self._busy = self._clients, [], []
        for client in clients:
            await client.aclose()
