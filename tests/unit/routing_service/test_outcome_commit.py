"""Where the outcome of a relayed request is committed: awaited before the answer by default,
queued behind it in the `behind` mode; a failed outcome commit still answers the requester."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from application.bodies import Body
from application.errors import LedgerUnavailableError
from application.routing import RoutingConfig
from domain.messages import RoutedMessage
from domain.values import ConnectionStatus
from tests.unit.routing_service.test_route_choice import (
    HUB,
    network,
    service_with_fakes,
    tariffs_get,
)


class WitnessRecorder:
    """Notes, per call, the events it was given and whether it was awaited or queued; can
    refuse the outcome commit (the second call) as a failed store would."""

    def __init__(self, fail_outcome: bool = False) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.fail_outcome = fail_outcome

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        self.calls.append(("awaited", self._names(messages)))
        if self.fail_outcome and len(self.calls) == 2:
            raise LedgerUnavailableError("the message ledger cannot record right now (test)")
        return len(self.calls)

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        self.calls.append(("queued", self._names(messages)))

    @staticmethod
    def _names(messages: Sequence[RoutedMessage]) -> list[str]:
        return [type(e).__name__ for m in messages for e in m.collect_events()]


def relay(before_answer: bool, recorder: WitnessRecorder) -> Any:
    config = RoutingConfig(
        hub=HUB, base_url="https://hub.example.com", outcome_before_answer=before_answer
    )
    service, _deliverer, _ = service_with_fakes(config, network(ConnectionStatus.CONNECTED))
    service.recorder = recorder
    return asyncio.run(service.handle(tariffs_get(service.table, "outcome-1")))


def test_by_default_the_outcome_is_committed_before_the_answer() -> None:
    recorder = WitnessRecorder()
    answer = relay(True, recorder)
    assert answer.http_status == 200
    assert recorder.calls == [
        ("awaited", ["Admitted"]),
        ("awaited", ["Concluded"]),
    ]


def test_behind_the_outcome_is_only_queued() -> None:
    recorder = WitnessRecorder()
    relay(False, recorder)
    assert recorder.calls[1] == ("queued", ["Concluded"])


def test_a_failed_outcome_commit_still_relays_the_receivers_answer() -> None:
    answer = relay(True, WitnessRecorder(fail_outcome=True))
    assert answer.http_status == 200
    assert json.loads(answer.body)["status_code"] == 1000
