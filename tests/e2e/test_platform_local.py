"""One platform node hosting an eMSP and a CPO: traffic between them never leaves the node."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator

import httpx
import pytest

from api.demo.orchestrator import Demo
from api.demo.topologies import PlatformSpec, Topology, _parties
from api.demo.traffic import Exchange, Side, exchange_pair
from tests.conftest import DEFAULT_POSTGRES_URL, require_postgres
from tests.e2e.platforms import assert_delivered_to_the_addressed_party, ledgers

PLATFORM = PlatformSpec("eMSP1+CPO1", _parties("eMSP1", "CPO1"))
LOCAL = Topology("local", "one platform, two parties", (PLATFORM,), ())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def local_platform(request: pytest.FixtureRequest) -> Iterator[tuple[Demo, list[Exchange]]]:
    database_url = None
    if request.param == "postgres":
        require_postgres()
        database_url = DEFAULT_POSTGRES_URL
    demo = Demo(LOCAL, database_url=database_url)
    try:
        demo.start()
        node = demo.nodes[PLATFORM.name]
        emsp, cpo = node.parties

        async def traffic() -> list[Exchange]:
            async with httpx.AsyncClient(timeout=20) as client:
                return await exchange_pair(client, Side(emsp, node), Side(cpo, node))

        yield demo, asyncio.run(traffic())
    finally:
        demo.close()


def test_every_exchange_reaches_the_addressed_party_on_the_same_node(local_platform):
    demo, exchanges = local_platform
    assert [e.route for e in exchanges] == ["local"] * 5
    assert_delivered_to_the_addressed_party(demo, exchanges)


def test_the_ledger_records_each_exchange_and_the_async_result_with_its_correlation_id(
    local_platform,
):
    demo, exchanges = local_platform
    ledger = ledgers(demo)[PLATFORM.name]
    for exchange in exchanges:
        assert ledger[exchange.correlation_id] == {"local"}
    command = next(e for e in exchanges if e.name == "command")
    assert command.correlation_id in ledger


def _egress(demo: Demo, path: str, frm: str, to: str) -> httpx.Response:
    node = demo.nodes[PLATFORM.name]
    token = base64.b64encode((node.backend_token or "").encode()).decode()
    return httpx.get(
        f"{node.url}/egress/{path}",
        headers={
            "Authorization": f"Token {token}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": "refused-" + frm,
            "OCPI-from-country-code": frm[:2],
            "OCPI-from-party-id": frm[3:],
            "OCPI-to-country-code": to[:2],
            "OCPI-to-party-id": to[3:],
        },
        timeout=10,
    )


def test_a_backend_cannot_send_as_a_party_it_does_not_host_and_the_refusal_is_recorded(
    local_platform,
):
    demo, _ = local_platform
    response = _egress(demo, "locations/sender", "NL*ZZZ", "NL*CP1")
    # the same refusal as for a connection: FROM is not one of the caller's parties
    assert response.json()["status_code"] == 2001
    assert "not a party of the calling connection" in response.json()["status_message"]
    assert ledgers(demo)[PLATFORM.name]["refused-NL*ZZZ"] == {"refused"}


def test_a_party_no_route_reaches_is_answered_with_4001_and_the_reason(local_platform):
    demo, _ = local_platform
    response = _egress(demo, "locations/sender", "NL*EM1", "DE*XYZ")
    body = response.json()
    assert body["status_code"] == 4001
    assert "no route to DE*XYZ" in body["status_message"]


def test_egress_refuses_an_unknown_backend_token(local_platform):
    demo, _ = local_platform
    node = demo.nodes[PLATFORM.name]
    response = httpx.get(
        f"{node.url}/egress/locations/sender", headers={"Authorization": "Token nope"}, timeout=10
    )
    assert response.status_code == 401
