"""Two nodes as real processes register with each other in both directions, through the CLI
and the admin API; rotation and unregistering from either side; the ledger shows every step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infrastructure.database_url import DatabaseUrl, parse_database_url
from infrastructure.store import open_store
from tests.conftest import drop_schema
from tests.e2e.nodes import ADMIN_TOKEN, REPO, free_port, start_node, wait_until_serving
from tests.support.fake_peer import token_header


@dataclass
class Proc:
    url: str
    database: DatabaseUrl

    def cli(self, *args: str) -> Any:
        env = {**os.environ, "OCPI_LEDGER_URL": self.url, "OCPI_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN}
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", *args, "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def admin(self, method: str, path: str) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        response = httpx.request(method, f"{self.url}/admin{path}", headers=headers, timeout=60)
        assert response.status_code < 300, response.text
        return response.json()

    def ledger(self, connection_id: str) -> list[Any]:
        store = open_store(self.database)
        try:
            return list(store.registry.repository.event_store.get(uuid.UUID(connection_id)))
        finally:
            store.close()

    def versions_status(self, token: str | None) -> int:
        headers = token_header(token) if token else {}
        return httpx.get(f"{self.url}/ocpi/versions", headers=headers, timeout=10).status_code


def sibling(url: DatabaseUrl) -> DatabaseUrl:
    if url.is_postgres:
        return url.with_schema(f"t_{uuid.uuid4().hex[:12]}")
    return parse_database_url(f"sqlite:///{url.sqlite_path}.b.db")


@pytest.fixture
def nodes(database_url: DatabaseUrl) -> Iterator[tuple[Proc, Proc]]:
    second = sibling(database_url)
    processes, procs = [], []
    try:
        for url, party in ((database_url, "NL*HBA"), (second, "DE*HBB")):
            port = free_port()
            process = start_node(url, port, "--mode", "hub", "--party", party)
            processes.append(process)
            wait_until_serving(port, process)
            procs.append(Proc(f"http://127.0.0.1:{port}", url))
        yield procs[0], procs[1]
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        if second.is_postgres:
            drop_schema(second)


def tokens(events: list[Any]) -> list[str]:
    """The tokens this side sent to its peer over time (each is the peer's inbound token)."""
    return [e.outbound_token for e in events if getattr(e, "outbound_token", None)]


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_nodes_connect_rotate_from_both_sides_and_unregister(nodes: tuple[Proc, Proc]) -> None:
    a, b = nodes
    invitation = a.cli("invite", "--label", "node b")
    on_b = b.cli("connect", invitation["versions_url"], invitation["token_a"])
    on_a = a.admin("GET", f"/connections/{invitation['id']}")
    assert on_b["status"] == on_a["status"] == "CONNECTED"
    assert on_a["parties"] == [
        {"country_code": "DE", "party_id": "HBB", "role": "HUB", "status": "CONNECTED"}
    ]
    assert a.versions_status(invitation["token_a"]) == 401

    b.cli("rotate", on_b["id"])  # B puts new credentials on A
    a.admin("POST", f"/connections/{on_a['id']}/rotate-token")  # and A on B
    sent_by_b, sent_by_a = tokens(b.ledger(on_b["id"])), tokens(a.ledger(on_a["id"]))
    assert len(sent_by_b) == len(sent_by_a) == 3 and len(set(sent_by_b + sent_by_a)) == 6
    assert [a.versions_status(t) for t in sent_by_b] == [401, 401, 200]
    assert [b.versions_status(t) for t in sent_by_a] == [401, 401, 200]

    b.cli("disconnect", on_b["id"])
    assert a.versions_status(sent_by_b[-1]) == 401
    assert b.versions_status(sent_by_a[-1]) == 401
    assert names(b.ledger(on_b["id"])) == [
        "Opened",
        "HandshakeStarted",
        "Registered",
        "HandshakeStarted",
        "CredentialsUpdated",
        "CredentialsUpdated",
        "Unregistered",
    ]
    a_events = a.ledger(on_a["id"])
    assert names(a_events) == [
        "Opened",
        "Registered",
        "CredentialsUpdated",
        "HandshakeStarted",
        "CredentialsUpdated",
        "Unregistered",
    ]
    assert a_events[-1].initiated_by == "peer"
    assert a.admin("GET", f"/connections/{on_a['id']}")["unregistered"] is True


def test_the_invited_side_can_unregister_too(nodes: tuple[Proc, Proc]) -> None:
    a, b = nodes
    invitation = b.cli("invite")
    on_a = a.cli("connect", invitation["versions_url"], invitation["token_a"])
    b.cli("disconnect", invitation["id"])
    assert a.admin("GET", f"/connections/{on_a['id']}")["unregistered"] is True
    assert names(b.ledger(invitation["id"]))[-1] == "Unregistered"
    assert b.ledger(invitation["id"])[-1].initiated_by == "us"
    listing = a.cli("connections")
    assert [c["id"] for c in listing] == [on_a["id"]]
    secrets_shown = json.dumps(a.admin("GET", f"/connections/{on_a['id']}/events"))
    assert all(t not in secrets_shown for t in tokens(a.ledger(on_a["id"])))
