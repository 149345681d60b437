"""`ocpi-ledger serve` as a real process on a free port, called over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.database_url import DatabaseUrl

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
        cwd=Path(__file__).resolve().parents[2],
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


@pytest.fixture
def node(database_url: DatabaseUrl) -> Iterator[str]:
    port = free_port()
    process = start_node(database_url, port)
    try:
        wait_until_serving(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def test_the_node_reports_a_reachable_store(node: str) -> None:
    health = httpx.get(f"{node}/health").json()
    assert health["status"] == "ok"
    assert health["store"]["registry"] == "reachable"
    assert health["mode"] == "hub"


def test_versions_needs_a_known_token_and_answers_with_an_ocpi_envelope(node: str) -> None:
    response = httpx.get(f"{node}/ocpi/versions", headers={"X-Request-ID": "abc-1"})
    assert response.status_code == 401
    body = response.json()
    assert body["status_code"] == 2000 and "token" in body["status_message"]
    assert response.headers["x-request-id"] == "abc-1"
    assert response.headers["x-correlation-id"]
    unknown = httpx.get(f"{node}/ocpi/versions", headers={"Authorization": "Token bm9wZQ=="})
    assert unknown.status_code == 401


def test_a_malformed_setting_stops_serve_with_exit_code_2(tmp_path: Path) -> None:
    env = {**os.environ, "OCPI_LEDGER_MODE": "proxy"}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ocpi-ledger: OCPI_LEDGER_MODE: must be one of hub, platform, got 'proxy'"
    )


def test_a_generated_admin_token_is_printed_once_and_kept(tmp_path: Path) -> None:
    from infrastructure.database_url import parse_database_url

    url = parse_database_url(f"sqlite:///{tmp_path / 'node.db'}")
    outputs = []
    for _ in range(2):
        port = free_port()
        process = start_node(url, port, admin=False)
        try:
            wait_until_serving(port, process)
        finally:
            process.terminate()
            out, _err = process.communicate(timeout=10)
            outputs.append(out)
    assert "generated admin token" in outputs[0]
    assert "generated admin token" not in outputs[1]
