"""`ocpi-ledger serve` as a real process on a free port, called over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.database_url import DatabaseUrl
from tests.e2e.nodes import REPO, free_port, start_node, wait_until_serving


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
        cwd=REPO,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ocpi-ledger serve: OCPI_LEDGER_MODE: must be one of hub, platform, got 'proxy'"
    )


@pytest.mark.parametrize(
    ("database_url", "cause"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", "cannot connect to PostgreSQL"),
        ("sqlite:///{tmp}/no/such/folder/ledger.db", "does not exist"),
        ("sqlite:///{tmp}/garbage.db", "file is not a database"),
    ],
)
def test_a_store_that_cannot_be_opened_stops_serve_with_one_line_and_exit_code_2(
    tmp_path: Path, database_url: str, cause: str
) -> None:
    (tmp_path / "garbage.db").write_bytes(b"not a database, " * 100)
    env = {**os.environ, "OCPI_LEDGER_DATABASE_URL": database_url.format(tmp=tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ocpi-ledger serve: OCPI_LEDGER_DATABASE_URL: ") and cause in line


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
