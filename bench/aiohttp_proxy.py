"""The baseline of the routing benchmark: the fastest plain Python hop we know, a raw ASGI app
under uvicorn forwarding with aiohttp's client. No ledger, no routing, no framework: what a
routed request costs beyond it is what the node adds.

`BENCH_UPSTREAM=http://127.0.0.1:9000 uvicorn bench.aiohttp_proxy:app` serves it.
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from yarl import URL

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9000")
# Hop-by-hop headers and the ones the client sets itself.
_DROP = {b"host", b"content-length", b"connection", b"keep-alive", b"transfer-encoding"}
_session: aiohttp.ClientSession | None = None


async def _lifespan(receive: Any, send: Any) -> None:
    global _session
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            connector = aiohttp.TCPConnector(limit=64, keepalive_timeout=30)
            _session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=10), auto_decompress=False
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _session is not None:
                await _session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name not in _DROP
    }
    target = UPSTREAM + scope["raw_path"].decode("latin-1")
    if scope["query_string"]:
        target += "?" + scope["query_string"].decode("latin-1")
    assert _session is not None
    async with _session.request(
        scope["method"], URL(target, encoded=True), headers=headers, data=b"".join(chunks)
    ) as upstream:
        body = await upstream.read()
        relayed = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in upstream.headers.items()
            if name.lower().encode("latin-1") not in _DROP
        ]
    relayed.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": upstream.status, "headers": relayed})
    await send({"type": "http.response.body", "body": body})
