"""Run nodes as real processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from infrastructure.database_url import DatabaseUrl

REPO = Path(__file__).resolve().parents[2]

ADMIN_TOKEN = "e2e-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_text(url: DatabaseUrl) -> str:
    if url.is_postgres:
        user = f"{url.user}@" if url.user else ""
        return f"postgresql://{user}{url.host}:{url.port}/{url.dbname}?schema={url.schema}"
    return f"sqlite:///{url.sqlite_path}"


def start_node(
    url: DatabaseUrl, port: int, *extra: str, admin: bool = True
) -> subprocess.Popen[str]:
    env = {**os.environ, "OCPI_LEDGER_DATABASE_URL": database_url_text(url)}
    env["OCPI_LEDGER_BASE_URL"] = f"http://127.0.0.1:{port}"
    if admin:
        env["OCPI_LEDGER_ADMIN_TOKEN"] = ADMIN_TOKEN
    else:
        env.pop("OCPI_LEDGER_ADMIN_TOKEN", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_serving(port: int, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"node exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("node did not start in time")
