"""Run an ASGI app with uvicorn on a free loopback port, in a thread of this test process."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class ServerThread:
    """The socket is bound before the server starts, so the URL is known and never races."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
        # and without it every keep-alive answer waits ~40 ms for a delayed ACK (Nagle).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5, access_log=False
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"server-{self.port}", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None

    def set_app(self, app: Any) -> None:
        """Serve `app`: for apps that need their own URL before they exist (before start)."""
        self.app = app
        self.server.config.app = app

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve(sockets=[self._socket])

        try:
            asyncio.run(serve())
        except BaseException as error:  # reported by start()/stop()
            self.error = error

    def start(self, timeout: float = 20.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} failed to start: {self.error!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on port {self.port} did not start in {timeout} s")
            time.sleep(0.01)
        return self

    def run(self, coroutine: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the server's event loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        """Stop serving; stopping twice is harmless."""
        self.server.should_exit = True
        self._thread.join(15)
        self._socket.close()


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve `app` for the duration of a `with` block; yields its base URL."""
    server = ServerThread(app, port or 0).start()
    try:
        yield server.url
    finally:
        server.stop()


def wait_for(condition: Any, timeout: float = 10.0, message: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)
