"""`serve --ledger-views process`: the audit and traffic views are followed by a child process,
which the node stops on exit and which never outlives a killed node."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from infrastructure.database_url import DatabaseUrl
from infrastructure.sql import startup_lock
from infrastructure.store import open_store
from tests.audit_support import record, routed
from tests.e2e.nodes import ADMIN_TOKEN, free_port, start_node, wait_until_serving
from tests.support.servers import wait_for

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0) until its parent reaps it; it runs nothing.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] != "Z"


@pytest.fixture
def node(database_url: DatabaseUrl) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = start_node(database_url, port, "--ledger-views", "process")
    try:
        wait_until_serving(port, process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(15)


def test_the_views_process_follows_what_the_node_recorded_and_stops_with_it(
    database_url: DatabaseUrl, node: tuple[str, subprocess.Popen[str]]
) -> None:
    url, process = node
    with startup_lock(database_url):
        store = open_store(database_url)
    try:
        position = record(store, routed("v1"), routed("v2", correlation_id="via-child"))
    finally:
        store.close()

    def caught_up() -> bool:
        progress = httpx.get(f"{url}/admin/projections/audit", headers=ADMIN).json()["data"]
        return bool(progress["position"] >= position)

    wait_for(caught_up, timeout=20, message="the views process to follow the ledger")
    found = httpx.get(f"{url}/admin/messages?correlation_id=via-child", headers=ADMIN).json()
    assert [m["request_id"] for m in found["data"]["messages"]] == ["v2"]

    (views,) = children(process.pid)
    process.terminate()
    process.wait(15)
    wait_for(lambda: not alive(views), timeout=15, message="the views process to stop")


def test_a_views_process_does_not_outlive_a_killed_node(
    node: tuple[str, subprocess.Popen[str]],
) -> None:
    _url, process = node
    (views,) = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait(5)
    wait_for(lambda: not alive(views), timeout=10, message="the orphaned views process to exit")
