"""The baseline: a plain pass-through proxy on the node's stack (Starlette + httpx + uvicorn),
with no ledger and no routing. Every request goes to BENCH_UPSTREAM + the same path and query.

`BENCH_UPSTREAM=http://127.0.0.1:9000 uvicorn bench.baseline_proxy:app` serves it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infrastructure.http_pools import ShardedPool, cache_missing_sniffio, shared_ssl_context

# The node's httpx fixes (sniffio, small pools) apply to the baseline too, so the comparison is
# of the ledger and routing alone.
cache_missing_sniffio()

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9000")
# Hop-by-hop headers and the ones httpx sets itself.
_DROP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The same pool settings as the node's forwarder (infrastructure/forwarder.py).
    def make_client(connections: int) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=30
        )
        return httpx.AsyncClient(timeout=10, limits=limits, verify=shared_ssl_context())

    app.state.pool = ShardedPool(make_client, 64)
    yield
    await app.state.pool.aclose()


async def proxy(request: Request) -> Response:
    pool: ShardedPool = request.app.state.pool
    headers = {k: v for k, v in request.headers.items() if k not in _DROP}
    url = UPSTREAM + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    async with pool.client() as client:
        upstream = await client.request(
            request.method, url, headers=headers, content=await request.body()
        )
    relayed = {k: v for k, v in upstream.headers.items() if k not in _DROP}
    return Response(upstream.content, status_code=upstream.status_code, headers=relayed)


app = Starlette(
    routes=[
        Route("/{path:path}", proxy, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ],
    lifespan=lifespan,
)
