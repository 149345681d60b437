"""A receiver on a real loopback socket, on the test's own event loop, that records each request
exactly as it came on the wire (request target byte for byte, headers, body, which connection)
and answers what the test scripts: a fake for testing an HTTP client, no mock transport."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class SeenRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int


Writer = asyncio.StreamWriter
Script = Callable[[SeenRequest, Writer], Awaitable[None]]


def response(
    status: int,
    body: bytes = b'{"status_code":1000}',
    headers: list[tuple[str, str]] | None = None,
    length: bool = True,
) -> bytes:
    """One HTTP/1.1 answer as bytes; without `length` it is chunked (one chunk)."""
    head = [f"HTTP/1.1 {status} X"]
    head += [f"{name}: {value}" for name, value in headers or []]
    if status == 304:
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    if length:
        head.append(f"content-length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    head.append("transfer-encoding: chunked")
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + chunked


def answering(raw: bytes) -> Script:
    async def script(_request: SeenRequest, writer: Writer) -> None:
        writer.write(raw)
        await writer.drain()

    return script


@dataclass
class ScriptedReceiver:
    """`scripts` by request target (path and query); `default` for any other."""

    scripts: dict[str, Script] = field(default_factory=dict)
    default: Script = field(default_factory=lambda: answering(response(200)))
    seen: list[SeenRequest] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    _server: asyncio.Server | None = None
    _writers: set[Writer] = field(default_factory=set)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        connection = next(self._numbers)
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = SeenRequest(method, target, headers, body, connection)
                self.seen.append(request)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                try:
                    await self.scripts.get(target, self.default)(request, writer)
                finally:
                    self.in_flight -= 1
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
