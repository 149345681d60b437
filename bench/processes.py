"""Real server processes on loopback for the benchmark: start, wait until serving, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "bench-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        env: dict[str, str],
        repo: Path = REPO,
    ) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / f"bench-{name}-{port}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo), **env},
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str = "/", timeout: float = 60) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + path, timeout=2).status_code < 500:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in {timeout} s")

    @property
    def pids(self) -> list[int]:
        """The server process and its children (uvicorn workers)."""
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [self.process.pid, *(int(p) for p in out.split())]

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server and its workers."""
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log_file.close()


def uvicorn_server(name: str, app: str, env: dict[str, str], workers: int = 1) -> Server:
    port = free_port()
    if workers > 1:
        # The node's multi-worker runner (TCP_NODELAY on the shared socket, api/serving.py), so
        # the baseline with workers is not slowed by 40 ms delayed-ACK stalls the node avoids.
        code = "import sys; from api.serving import run_workers; run_workers(*sys.argv[1:3], "
        code += "int(sys.argv[3]), int(sys.argv[4]), 'warning')"
        command = [sys.executable, "-c", code, app, "127.0.0.1", str(port), str(workers)]
        return Server(name, command, port, env)
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    return Server(name, command, port, env)


def node_server(
    name: str,
    database_url: str,
    workers: int = 1,
    repo: Path = REPO,
    settings: dict[str, str] | None = None,
) -> Server:
    """`ocpi-ledger serve` from `repo` (another checkout compares code versions in one run)."""
    port = free_port()
    env = {
        "OCPI_LEDGER_DATABASE_URL": database_url,
        "OCPI_LEDGER_BASE_URL": f"http://127.0.0.1:{port}",
        "OCPI_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        **(settings or {}),
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port)]
    command += ["--log-level", "warning", "--workers", str(workers)]
    return Server(name, command, port, env, repo)


@contextmanager
def running(server: Server, ready_path: str = "/") -> Iterator[Server]:
    try:
        yield server.wait_ready(ready_path)
    finally:
        server.stop()
