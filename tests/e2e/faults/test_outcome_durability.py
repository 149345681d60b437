"""kill -9 under load: every request a sender got an answer for has that answer in the ledger
(`OCPI_LEDGER_OUTCOME_COMMIT=before-answer`, the default), round after round."""

from __future__ import annotations

import itertools
import random
import threading
import time

from infrastructure.database_url import DatabaseUrl
from tests.e2e.faults.support import LedgerReader, connect_pair, kill_hard, wait_routing
from tests.e2e.nodes import free_port, start_node, wait_until_serving
from tests.support.fake_platform import FakePlatform
from tests.support.servers import wait_for

ROUNDS = 3
SENDERS = 6


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
            stop = threading.Event()
            numbers = itertools.count()  # thread-safe, unlike a generator

            def send(
                port: int = port, stop: threading.Event = stop, numbers=numbers, r=round_number
            ) -> None:
                while not stop.is_set():
                    sender.get(port, f"r{r}-{next(numbers)}", timeout=10)

            threads = [threading.Thread(target=send) for _ in range(SENDERS)]
            for thread in threads:
                thread.start()
            target = 30 * (round_number + 1)
            wait_for(lambda target=target: len(sender.acknowledged) >= target, timeout=60)
            time.sleep(random.uniform(0, 0.1))
            kill_hard(node)  # with requests of every thread in flight
            stop.set()
            for thread in threads:
                thread.join(15)
        finally:
            if node.poll() is None:
                kill_hard(node)
        with LedgerReader(database_url) as ledger:
            lost = [
                request_id
                for request_id in sender.acknowledged
                if "Responded" not in ledger.events(sender, request_id)
            ]
        assert lost == [], f"round {round_number}: answered but not recorded: {lost}"
