"""`ocpi-ledger serve` as a process routes a push between two platforms and records it."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from domain.message_steps import step_events
from domain.messages import message_id
from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.store import open_store
from tests.e2e.nodes import free_port, start_node, wait_until_serving
from tests.support.fake_platform import FakePlatform
from tests.support.registration import register_platform


@pytest.fixture
def platforms() -> Iterator[tuple[FakePlatform, FakePlatform]]:
    cpo, emsp = FakePlatform("cpo").start(), FakePlatform("emsp").start()
    yield cpo, emsp
    cpo.stop()
    emsp.stop()


def register(url: DatabaseUrl, platform: FakePlatform, role: Role, party_id: str) -> str:
    """Connect a platform straight through the registry; returns the token it calls us with."""
    return register_platform(url, platform, role, party_id)[1]


def test_a_served_hub_relays_a_token_push_and_its_ledger_holds_it(
    database_url: DatabaseUrl, platforms: tuple[FakePlatform, FakePlatform]
) -> None:
    cpo, emsp = platforms
    port = free_port()
    process = start_node(database_url, port)
    try:
        wait_until_serving(port, process)
        register(database_url, cpo, Role.CPO, "CPA")
        emsp_token = register(database_url, emsp, Role.EMSP, "EMA")
        headers = {
            "authorization": "Token " + base64.b64encode(emsp_token.encode()).decode(),
            "x-request-id": "e2e-1",
            "ocpi-from-country-code": "NL",
            "ocpi-from-party-id": "EMA",
            "ocpi-to-country-code": "NL",
            "ocpi-to-party-id": "CPA",
            "content-type": "application/json",
        }
        body = b'{"uid": "U1", "valid": true, "n": 1.10}'
        url = f"http://127.0.0.1:{port}/ocpi/2.2.1/tokens/receiver/NL/EMA/U1"
        deadline = time.monotonic() + 10
        while True:  # the node's routing table follows the registry by polling
            response = httpx.put(url, headers=headers, content=body, timeout=10)
            if response.status_code != 401 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
            headers["x-request-id"] = f"e2e-{time.monotonic()}"

        assert response.status_code == 200, response.text
        assert response.json()["status_code"] == 1000
        forwarded = cpo.wait_for(1)[0]
        assert forwarded.body == body
        assert (
            forwarded.headers["authorization"]
            == "Token " + base64.b64encode(b"outbound-CPA").decode()
        )
    finally:
        process.terminate()
        process.wait(10)
    store = open_store(database_url)
    try:
        rows = store.registry_db.query("SELECT id FROM rt_connections WHERE label = %s", ("emsp",))
        scope = rows[0]["id"]
        events = list(
            store.ledger.repository.event_store.get(message_id(scope, headers["x-request-id"]))
        )
        assert [type(event).__name__ for event in events] == ["Admitted", "Concluded"]
        steps = [type(step).__name__ for event in events for step in step_events(event)]
        assert steps == ["Received", "Routed", "Forwarded", "Answered", "Responded"]
    finally:
        store.close()
