"""kill -9 under load: every request a sender got an answer for has that answer in the ledger
(`OCPI_LEDGER_OUTCOME_COMMIT=before-answer`, the default), round after round.

The node dies the instant one of its answers arrives, with the other senders' requests in
flight: the narrowest window there is between an answer and the commit of its outcome. With
`OCPI_LEDGER_OUTCOME_COMMIT=behind` (the old behaviour) this finds lost outcomes."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading

from infrastructure.database_url import DatabaseUrl
from tests.e2e.faults.support import LedgerReader, Sender, connect_pair, wait_routing
from tests.e2e.nodes import free_port, start_node, wait_until_serving
from tests.support.fake_platform import FakePlatform
from tests.support.servers import wait_for

ROUNDS = 5
SENDERS = 6


def load_then_kill_on_an_answer(
    sender: Sender, node: subprocess.Popen[str], port: int, round_number: int
) -> None:
    """SENDERS threads send as fast as answers come; once 30 more were answered, the thread
    that gets the next answer kills the node at once."""
    armed, killed, stop = threading.Event(), threading.Event(), threading.Event()
    numbers = itertools.count()  # thread-safe, unlike a generator

    def send() -> None:
        while not stop.is_set():
            status = sender.get(port, f"r{round_number}-{next(numbers)}", timeout=10)
            if status == 1000 and armed.is_set() and not killed.is_set():
                killed.set()
                os.kill(node.pid, signal.SIGKILL)

    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    try:
        target = len(sender.acknowledged) + 30
        wait_for(lambda: len(sender.acknowledged) >= target, timeout=60)
        armed.set()
        wait_for(killed.is_set, timeout=30)
        node.wait(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)


def test_after_kill_9_under_load_every_answered_request_has_its_recorded_outcome(
    database_url: DatabaseUrl, platforms: tuple[FakePlatform, FakePlatform]
) -> None:
    cpo, emsp = platforms
    sender = connect_pair(database_url, cpo, emsp, "D1")
    for round_number in range(ROUNDS):
        port = free_port()
        node = start_node(database_url, port)
        try:
            wait_until_serving(port, node)
            wait_routing(sender, port)
            load_then_kill_on_an_answer(sender, node, port, round_number)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait(10)
        with LedgerReader(database_url) as ledger:
            lost = [
                request_id
                for request_id in sender.acknowledged
                if "Responded" not in ledger.events(sender, request_id)
            ]
        assert lost == [], f"round {round_number}: answered but not recorded: {lost}"
