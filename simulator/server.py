"""Run a simulator app with uvicorn in a daemon thread (tests) or as its own process."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 10.0


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int
    app: FastAPI

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def request_stop(self) -> None:
        """Ask the server to stop without waiting (stop several at once, then join)."""
        sim = getattr(self.app.state, "sim", None)
        if sim is not None:
            # releases requests parked in a `hang` fault so shutdown does not wait on them
            sim.clear_faults()
        self.server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        self.request_stop()
        self.thread.join(timeout)


def start_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve `app` on host:port (0 = any free port) and return once it accepts connections."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted sockets inherit this; without it every keep-alive request waits ~40 ms for
    # Nagle + delayed ACK (asyncio only sets it on sockets it creates itself)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    # the bound socket is the only reliable source of the port when port 0 was asked for
    actual_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sim-{actual_port}", daemon=True
    )
    running = RunningServer(server, thread, host, actual_port, app)
    sim = getattr(app.state, "sim", None)
    if sim is not None and not sim.config.public_url:
        sim.config.public_url = running.url
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"simulator server on {host}:{actual_port} did not start")
        time.sleep(0.01)
    return running
