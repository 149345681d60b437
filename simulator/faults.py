"""ASGI middleware that logs every inbound OCPI request and plays injected faults.

It sits outside FastAPI so a fault can break a response in ways a well-behaved handler never
would (half a JSON document, an HTML error page, a hang).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.envelope import envelope, ocpi_now
from simulator.state import Fault, LogEntry, PlatformState

HANG_LIMIT_S = 3600.0
HTML_ERROR_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
)


class SimMiddleware:
    def __init__(self, app: ASGIApp, sim: PlatformState) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.sim.record(_log_entry(scope, headers, body))
        fault = self.sim.fault_for(scope["path"])
        if fault is not None and await self._play(fault, headers, send):
            return
        await self.app(scope, _replay(body, receive), send)

    async def _play(self, fault: Fault, headers: dict[str, str], send: Send) -> bool:
        """Act out `fault`; True when the response has been sent."""
        if fault.mode == "hang":
            # hang until the fault is cleared, so tests can tidy up without killing the server
            deadline = time.monotonic() + HANG_LIMIT_S
            while self.sim.fault_active(fault) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return False
        if fault.mode == "slow":
            await asyncio.sleep(fault.delay_ms / 1000)
            return False
        echo = {
            k: headers[k.lower()]
            for k in ("X-Request-ID", "X-Correlation-ID")
            if k.lower() in headers
        }
        if fault.mode == "status":
            payload = envelope(status_code=3000, status_message="injected fault")
            await _send(send, fault.status, _json(payload), "application/json", echo)
        elif fault.mode == "truncated":
            whole = _json(envelope(data={"id": "truncated", "filler": "x" * 64}))
            await _send(send, 200, whole[: len(whole) // 2], "application/json", echo)
        elif fault.mode == "html":
            await _send(send, 502, HTML_ERROR_PAGE, "text/html", echo)
        else:  # huge
            await _send(send, 200, _json(envelope(data="x" * fault.size)), "application/json", echo)
        return True


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _log_entry(scope: Scope, headers: dict[str, str], body: bytes) -> LogEntry:
    to_cc = headers.get("ocpi-to-country-code")
    to_pid = headers.get("ocpi-to-party-id")
    return LogEntry(
        time=ocpi_now(),
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers={k: v for k, v in headers.items() if k != "authorization"},
        body=body,
        addressed_party=(to_cc.upper(), to_pid.upper()) if to_cc and to_pid else None,
    )


async def _send(
    send: Send, status: int, body: bytes, content_type: str, extra: dict[str, str]
) -> None:
    raw_headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
