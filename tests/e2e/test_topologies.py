"""The eight topologies of OCPI 2.2.1 chapter 3, each as real processes (the demo's orchestration).

Per topology, started once and shared by its assertions: every trading pair exchanges the sample
traffic; each message reaches the addressed party (never a neighbour on the same platform); every
node on the path has it in its ledger under the same X-Correlation-ID. Every topology runs with
nodes on PostgreSQL (the two-platform ones entirely) and, where it has more nodes, others on
SQLite, so both stores carry real cross-node traffic in each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from api.demo.command import run_traffic
from api.demo.orchestrator import ADMIN_TOKEN, HUB_NAME, Demo
from api.demo.topologies import TOPOLOGIES, Topology
from api.demo.traffic import Exchange, Side, exchange_pair
from infrastructure.ledger_reader import read_ledger
from tests.conftest import DEFAULT_POSTGRES_URL, require_postgres
from tests.e2e.platforms import RECEIVER, assert_delivered_to_the_addressed_party, ledgers

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


# Each PostgreSQL node holds several pooled connections: at most two nodes per topology run on
# PostgreSQL, so one server's default max_connections (100) is enough.
POSTGRES_NODES = {
    "p2p": ("eMSP1", "CPO1"),
    "multi-p2p": ("eMSP1", "CPO1"),
    "same-roles": ("eMSP1+eMSP2+eMSP3", "CPO1+CPO2"),
    "dual-roles": ("CPO1+eMSP1", "CPO2+eMSP2"),
    "mixed": ("eMSP1+CPO1+eMSP2+CPO2", "eMSP4+CPO5+CPO6+CPO7"),
    "mesh": ("eMSP1+eMSP2", "CPO1+CPO2"),
    "hub": (HUB_NAME,),
    "hybrid": (HUB_NAME, "eMSP1+eMSP2"),
}


@pytest.fixture(scope="module", params=sorted(TOPOLOGIES))
def running(request: pytest.FixtureRequest) -> Iterator[tuple[Demo, list[Exchange]]]:
    topology = TOPOLOGIES[request.param]
    database_url = None
    postgres_nodes = POSTGRES_NODES.get(topology.name)
    if postgres_nodes:
        require_postgres()
        database_url = DEFAULT_POSTGRES_URL
    demo = Demo(topology, database_url=database_url, postgres_nodes=postgres_nodes)
    try:
        demo.start()
        demo.connect()
        yield demo, asyncio.run(run_traffic(demo, progress=False))
    finally:
        demo.close()
    assert not demo.workdir.exists(), "the demo left its temporary folder behind"


def test_the_nodes_named_for_postgresql_run_on_it(running):
    demo, _ = running
    on_postgres = {name for name, node in demo.nodes.items() if node.database.is_postgres}
    assert on_postgres == set(POSTGRES_NODES.get(demo.topology.name, ()))


def test_every_connected_pair_exchanges_all_sample_traffic_with_the_addressed_party(running):
    demo, exchanges = running
    assert {(e.emsp, e.cpo) for e in exchanges} == set(demo.topology.trading_pairs())
    assert_delivered_to_the_addressed_party(demo, exchanges)


def test_direct_paths_are_used_where_they_exist_and_the_hub_otherwise(running):
    demo, exchanges = running
    for exchange in exchanges:
        assert exchange.route == demo.topology.expected_route(exchange.emsp, exchange.cpo), exchange


def test_every_node_on_the_path_has_the_message_under_the_same_correlation_id(running):
    demo, exchanges = running
    topology: Topology = demo.topology
    held = ledgers(demo)
    for exchange in exchanges:
        emsp_node = topology.platform_of(exchange.emsp).name
        cpo_node = topology.platform_of(exchange.cpo).name
        path = {emsp_node, cpo_node}
        if topology.expected_route(exchange.emsp, exchange.cpo) == "hub":
            path.add(HUB_NAME)
        for name in path:
            assert exchange.correlation_id in held[name], (name, exchange)
        for name in set(demo.nodes) - path:
            assert exchange.correlation_id not in held[name], (name, exchange)


def test_a_suspended_direct_connection_moves_traffic_to_the_hub_and_the_ledger_says_why(running):
    demo, _ = running
    if demo.topology.name != "hybrid":
        pytest.skip("only the hybrid topology has both a direct and a hub path")
    emsp_platform, cpo_platform = "eMSP1+eMSP2", "CPO1+CPO2"
    pair = (emsp_platform, cpo_platform)
    node = demo.nodes[emsp_platform]
    # both ends suspend the link (suspension is each node's own decision, not signalled)
    for name, connection_id in (
        (emsp_platform, demo.connections[pair]),
        (cpo_platform, demo.peer_connections[pair]),
    ):
        suspended = httpx.post(
            f"{demo.nodes[name].url}/admin/connections/{connection_id}/suspend",
            json={"reason": "e2e: direct link maintenance"},
            headers=ADMIN,
            timeout=10,
        )
        assert suspended.status_code == 200, suspended.text
    emsp = demo.topology.platform(emsp_platform).parties[0]
    cpo = demo.topology.platform(cpo_platform).parties[0]

    async def again() -> list[Exchange]:
        async with httpx.AsyncClient(timeout=20) as client:
            return await exchange_pair(
                client, Side(emsp, node), Side(cpo, demo.nodes[cpo_platform])
            )

    exchanges = asyncio.run(again())
    assert all(e.ok and e.route == "hub" for e in exchanges), exchanges
    assert all("SUSPENDED" in e.reason for e in exchanges)
    held = ledgers(demo)
    for exchange in exchanges:
        sender = emsp_platform if RECEIVER[exchange.name] == "cpo" else cpo_platform
        (decision,) = [
            e
            for e in read_ledger(demo.nodes[sender].database).values()
            if e.correlation_id == exchange.correlation_id and e.route == "hub"
        ]
        assert "SUSPENDED" in (decision.reason or ""), decision
        assert exchange.correlation_id in held[HUB_NAME]
