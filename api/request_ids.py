"""Every response carries X-Request-ID and X-Correlation-ID (digest §1.6), errors included."""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = b"x-request-id"
_CORRELATION_ID = b"x-correlation-id"


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so it costs almost nothing on the routing hot path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ())
        request_id = incoming.get(_REQUEST_ID) or str(uuid.uuid4()).encode()
        correlation_id = incoming.get(_CORRELATION_ID) or str(uuid.uuid4()).encode()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                if _REQUEST_ID not in present:
                    headers.append((_REQUEST_ID, request_id))
                if _CORRELATION_ID not in present:
                    headers.append((_CORRELATION_ID, correlation_id))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_ids)
