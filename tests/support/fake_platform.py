"""A fake OCPI platform for hub tests: a real HTTP server on loopback that records every request
and answers as configured (fixed answers, faults, hangs). Stands in for the `simulator/` package
until it is merged; it knows nothing of OCPI semantics beyond the envelope.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from application.endpoints import ROLE_INTERFACES
from domain.values import OCPI_VERSION, Role
from tests.support.servers import ServerThread


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    raw_path: str = ""
    """The path exactly as it came on the wire (percent-encoding and all)."""

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    """Never answer (until the platform stops): a receiver that times out."""


def envelope(data: object = None, status_code: int = 1000, message: str | None = None) -> bytes:
    document: dict[str, object] = {}
    if data is not None:
        document["data"] = data
    document["status_code"] = status_code
    if message:
        document["status_message"] = message
    document["timestamp"] = "2024-01-01T00:00:00Z"
    return json.dumps(document).encode()


class FakePlatform:
    """Answers every request under /ocpi with `Reply` rules matched by method and path prefix
    (the longest prefix wins); unmatched requests get 200 and status_code 1000."""

    def __init__(self, name: str = "platform") -> None:
        self.name = name
        self.requests: list[Recorded] = []
        self._rules: list[tuple[str, str, Reply | Callable[[Recorded], Reply]]] = []
        self._changed = threading.Condition()
        self._release = asyncio.Event()
        app = Starlette(
            routes=[
                Route(
                    "/{path:path}", self._handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
                )
            ]
        )
        self._server = ServerThread(app)
        self.url = self._server.url

    @property
    def base(self) -> str:
        return f"{self.url}/ocpi/{OCPI_VERSION}"

    def endpoint(self, module: str, interface: str) -> str:
        return f"{self.base}/{module}/{interface.lower()}"

    def endpoints_for(self, *roles: Role) -> list[dict[str, str]]:
        """Version-details endpoints for the interfaces these roles implement (digest §0.2)."""
        seen: list[dict[str, str]] = []
        for role in roles:
            for module, interface in ROLE_INTERFACES[role]:
                entry = {
                    "identifier": str(module),
                    "role": str(interface),
                    "url": self.endpoint(str(module), str(interface)),
                }
                if entry not in seen:
                    seen.append(entry)
        return seen

    def on(
        self, method: str, path_prefix: str, reply: Reply | Callable[[Recorded], Reply]
    ) -> FakePlatform:
        self._rules.append((method.upper(), path_prefix, reply))
        return self

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        recorded = Recorded(
            request.method,
            request.url.path,
            request.url.query,
            {k.lower(): v for k, v in request.headers.items()},
            body,
            request.scope.get("raw_path", b"").decode("latin-1"),
        )
        with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        reply = self._reply_for(recorded)
        if reply.hang:
            await self._release.wait()
        content = reply.body if reply.body is not None else envelope()
        headers = {"content-type": "application/json", **reply.headers}
        return Response(content, status_code=reply.status, headers=headers)

    def _reply_for(self, recorded: Recorded) -> Reply:
        matches = [
            (prefix, reply)
            for method, prefix, reply in self._rules
            if method == recorded.method and recorded.path.startswith(prefix)
        ]
        if not matches:
            return Reply()
        _, reply = max(matches, key=lambda match: len(match[0]))
        return reply(recorded) if callable(reply) else reply

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        """Block until at least `count` requests arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.name} got {len(self.requests)} requests, expected {count}"
                    )
                self._changed.wait(remaining)
            return list(self.requests)

    def start(self) -> FakePlatform:
        self._server.start()
        return self

    def stop(self) -> None:
        loop = self._server.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._release.set)
        self._server.stop()
