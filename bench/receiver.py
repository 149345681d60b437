"""A minimal, fast receiving platform: raw ASGI, answers every request with a small OCPI envelope.

No framework, so what the benchmark measures is the proxy or node in front of it.
`uvicorn bench.receiver:app` serves it.
"""

from __future__ import annotations

from typing import Any

_BODY = b'{"data":{"result":"ACCEPTED"},"status_code":1000,"timestamp":"2024-01-01T00:00:00Z"}'
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:  # drain the request body
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
