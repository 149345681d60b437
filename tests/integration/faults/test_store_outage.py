"""PostgreSQL goes away under load (a cut TCP proxy between node and server, so the shared
server stays up): requests get a fast 503 / 4000 with Retry-After, nothing is forwarded
unrecorded, and once the store is back the node recovers by itself."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from psycopg_pool import PoolTimeout

from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.sql import PostgresDatabase
from tests.support.hub import HubUnderTest
from tests.support.servers import wait_for
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def proxy(postgres_url: DatabaseUrl) -> Iterator[TcpProxy]:
    running = TcpProxy(postgres_url.host, postgres_url.port).start()
    yield running
    running.stop()


def test_while_the_store_is_down_requests_get_a_fast_503_and_nothing_is_forwarded(
    postgres_url: DatabaseUrl, proxy: TcpProxy
) -> None:
    through_proxy = dataclasses.replace(postgres_url, host="127.0.0.1", port=proxy.port)
    with HubUnderTest(through_proxy, forward_timeout=1.0) as hub:
        emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
        assert emsp.call("GET", "locations", "sender", to=cpo.party).json()["status_code"] == 1000
        forwarded = len(cpo.platform.requests)

        proxy.cut()
        slowest = 0.0
        for number in range(10):
            started = time.perf_counter()
            answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id=f"d-{number}")
            slowest = max(slowest, time.perf_counter() - started)
            assert answer.status_code == 503, answer.text
            assert answer.json()["status_code"] == 4000
            assert "nothing was forwarded" in answer.json()["status_message"]
            assert int(answer.headers["retry-after"]) >= 1
        assert slowest < 4.5  # bounded by the 3 s commit timeout, then the breaker answers at once
        assert len(cpo.platform.requests) == forwarded

        proxy.restore()

        def routes_again() -> bool:
            answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="back")
            return answer.json().get("status_code") == 1000

        wait_for(routes_again, timeout=15, message="routing after the store came back")
        assert len(cpo.platform.requests) == forwarded + 1
        # The outcome rides in the next group commit, after the answer went out.
        hub.wait_for_events(emsp, "back", lambda names: names[-1:] == ["Responded"], timeout=10)
        # The projections resume: the audit view catches up with the ledger by itself.
        head = hub.node.ledger.recorder.max_notification_id()
        hub.node.runners["audit"].wait(head, timeout=15)
        assert hub.node.runners["audit"].last_error is None


def test_a_read_model_pool_connects_again_soon_after_a_long_outage(
    postgres_url: DatabaseUrl, proxy: TcpProxy
) -> None:
    """psycopg's pool, left to its defaults, retries a failed connect with a growing backoff
    for five minutes and does not grow meanwhile: after a 15 s outage its next try would come
    14 s after the store is back. Ours gives up after RECONNECT_TIMEOUT and starts afresh on
    demand."""
    through_proxy = dataclasses.replace(postgres_url, host="127.0.0.1", port=proxy.port)
    database = PostgresDatabase(through_proxy, min_size=0, max_size=2)
    try:
        proxy.cut()
        with pytest.raises(PoolTimeout):
            database.query("SELECT 1")  # the pool starts trying, and failing, to connect
        time.sleep(17 - 10)  # a 17 s outage: the query above waited 10 s for the pool
        proxy.restore()
        started = time.monotonic()
        assert database.query("SELECT 1 AS one") == [{"one": 1}]
        assert time.monotonic() - started < 5
    finally:
        database.close()


def test_health_answers_within_two_seconds_while_the_store_is_down_and_recovers(
    postgres_url: DatabaseUrl, proxy: TcpProxy
) -> None:
    through_proxy = dataclasses.replace(postgres_url, host="127.0.0.1", port=proxy.port)
    with HubUnderTest(through_proxy, forward_timeout=1.0) as hub:
        healthy = hub.client.get(f"{hub.url}/health")
        assert healthy.status_code == 200
        projections = healthy.json()["projections"]
        assert projections["routing_table"]["lag"] >= 0

        proxy.cut()
        for _ in range(3):
            started = time.perf_counter()
            answer = hub.client.get(f"{hub.url}/health")
            assert time.perf_counter() - started < 2.0
            assert answer.status_code == 503
            assert answer.json()["status"] == "unavailable"
            assert "store" in answer.json()["reason"]
            # the positions last read are still shown
            assert "routing_table" in answer.json()["projections"]

        proxy.restore()
        wait_for(
            lambda: hub.client.get(f"{hub.url}/health").status_code == 200,
            timeout=15,
            message="health after the store came back",
        )
