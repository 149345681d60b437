"""kill -9 of real `ocpi-ledger serve` processes with messages in flight, and two nodes sharing
one PostgreSQL ledger behind an (alternating) balancer."""

from __future__ import annotations

import threading

from infrastructure.database_url import DatabaseUrl
from tests.e2e.faults.support import (
    LedgerReader,
    admin_messages,
    connect_pair,
    kill_hard,
    verify_offline,
    wait_routing,
)
from tests.e2e.nodes import free_port, start_node, wait_until_serving
from tests.support.fake_platform import FakePlatform
from tests.support.servers import wait_for

ANSWERED = ["Received", "Routed", "Forwarded", "Answered", "Responded"]


def test_after_kill_9_mid_flight_the_ledger_verifies_and_cut_off_messages_show_unknown(
    database_url: DatabaseUrl, platforms: tuple[FakePlatform, FakePlatform]
) -> None:
    cpo, emsp = platforms
    sender = connect_pair(database_url, cpo, emsp, "K1")
    port = free_port()
    node = start_node(database_url, port, "--forward-timeout", "30")
    try:
        wait_until_serving(port, node)
        wait_routing(sender, port)
        for number in range(10):
            assert sender.get(port, f"ok-{number}") == 1000
        in_flight = [
            threading.Thread(target=sender.get, args=(port, f"cut-{n}", f"/slow/{n}"))
            for n in range(5)
        ]
        for thread in in_flight:
            thread.start()
        wait_for(lambda: sum("/slow/" in r.path for r in cpo.requests) == 5, timeout=10)
        kill_hard(node)
        for thread in in_flight:
            thread.join(10)
    finally:
        if node.poll() is None:
            kill_hard(node)

    verified = verify_offline(database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with LedgerReader(database_url) as ledger:
        for request_id in sender.acknowledged:
            assert ledger.events(sender, request_id)[-1] == "Responded", request_id
        for number in range(5):
            assert ledger.events(sender, f"cut-{number}") == ANSWERED[:3]
    assert len([r for r in sender.acknowledged if r.startswith("ok-")]) == 10

    # Restarted with a 1 s forward timeout: cut-off messages are "unknown" after 2 s.
    port = free_port()
    node = start_node(database_url, port, "--forward-timeout", "1")
    try:
        wait_until_serving(port, node)

        def unknown_ids() -> set[str]:
            return {str(m["request_id"]) for m in admin_messages(port, outcome="unknown")}

        wait_for(lambda: unknown_ids() == {f"cut-{n}" for n in range(5)}, timeout=15)
        # Projections resumed where they stopped and now include traffic after the restart.
        assert sender.get(port, "after-restart") == 1000
        wait_for(
            lambda: (
                {"after-restart", *(f"ok-{n}" for n in range(10))}
                <= {str(m["request_id"]) for m in admin_messages(port, outcome="success")}
            ),
            timeout=10,
        )
    finally:
        kill_hard(node)


def test_two_nodes_share_one_ledger_and_losing_one_loses_nothing_it_acknowledged(
    postgres_url: DatabaseUrl, platforms: tuple[FakePlatform, FakePlatform]
) -> None:
    cpo, emsp = platforms
    ports = [free_port(), free_port()]
    nodes = [start_node(postgres_url, port) for port in ports]
    try:
        for port, node in zip(ports, nodes, strict=True):
            wait_until_serving(port, node)
        # Registered while both run: each node's routing table learns it (LISTEN/NOTIFY).
        sender = connect_pair(postgres_url, cpo, emsp, "N1")
        assert max(wait_routing(sender, port) for port in ports) < 1.0
        request_ids = [f"lb-{n}" for n in range(20)]
        for number, request_id in enumerate(request_ids):  # the balancer alternates
            assert sender.get(ports[number % 2], request_id) == 1000
        with LedgerReader(postgres_url) as ledger:
            counts = ledger.received_counts()
            for request_id in request_ids:
                assert counts[request_id] == 1, request_id
                assert ledger.events(sender, request_id) == ANSWERED

        def rows(port: int) -> list[tuple[object, ...]]:
            found = admin_messages(port, party=f"NL*{sender.party_id}", outcome="success")
            return sorted((m["id"], m["request_id"], m["outcome"]) for m in found)

        wait_for(lambda: len(rows(ports[0])) >= 20 and rows(ports[0]) == rows(ports[1]))

        # Node A dies with requests in flight; all it acknowledged is in the ledger, and B
        # keeps routing.
        slow = threading.Thread(target=sender.get, args=(ports[0], "lost-mid-way", "/slow/x"))
        slow.start()
        wait_for(lambda: any("/slow/x" in r.path for r in cpo.requests), timeout=10)
        kill_hard(nodes[0])
        slow.join(10)
        with LedgerReader(postgres_url) as ledger:
            for request_id in sender.acknowledged:
                assert ledger.events(sender, request_id)[-1] == "Responded"
            assert ledger.events(sender, "lost-mid-way") == ANSWERED[:3]
        assert sender.get(ports[1], "after-a-died") == 1000
        verified = verify_offline(postgres_url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        for node in nodes:
            if node.poll() is None:
                kill_hard(node)
