"""When the ledger cannot confirm a record, the requester gets a 503 and nothing is sent; if
the record lands after all, the ledger says what really happened."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from application.bodies import Body
from application.errors import LedgerUnavailableError
from application.routing import Answer, RoutingConfig
from domain.messages import RoutedMessage
from domain.values import ConnectionStatus
from tests.recorded import steps
from tests.unit.routing_service.test_route_choice import (
    HUB,
    network,
    service_with_fakes,
    tariffs_get,
)


class SlowRecorder:
    """A ledger whose commit outlasts the wait: the record may still land afterwards."""

    def __init__(self, still_under_way: bool) -> None:
        self.still_under_way = still_under_way
        self.in_flight: list[Any] = []
        self.landed_later: Callable[[], None] | None = None
        self.behind: list[Any] = []
        self.behind_bodies: list[Body] = []

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        for message in messages:
            self.in_flight.extend(steps(message, []))
        refusal = LedgerUnavailableError("the message ledger cannot record right now (slow)")
        if self.still_under_way:

            def when_committed(then: Callable[[], None]) -> None:
                self.landed_later = then

            refusal.when_committed = when_committed
        raise refusal

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        for message in messages:
            self.behind.extend(steps(message, []))
        self.behind_bodies.extend(bodies)


def handle_with(recorder: SlowRecorder) -> tuple[Answer, Any]:
    service, deliverer, _ = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"),
        network(ConnectionStatus.CONNECTED),
    )
    service.recorder = recorder
    request = tariffs_get(service.table, "slow-1")
    return asyncio.run(service.handle(request)), deliverer


def test_a_request_the_ledger_cannot_confirm_gets_503_and_is_not_forwarded() -> None:
    answer, deliverer = handle_with(SlowRecorder(still_under_way=False))
    assert deliverer.deliveries == []
    assert answer.http_status == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["x-request-id"] == "slow-1"
    body = json.loads(answer.body)
    assert body["status_code"] == 4000
    assert "nothing was forwarded" in body["status_message"]


def test_a_record_that_lands_after_the_refusal_is_completed_with_a_failed_leg_and_the_503() -> None:
    recorder = SlowRecorder(still_under_way=True)
    answer, deliverer = handle_with(recorder)
    assert deliverer.deliveries == []
    assert [type(e).__name__ for e in recorder.in_flight][-1] == "Forwarded"
    assert recorder.landed_later is not None

    recorder.landed_later()

    failed, responded = recorder.behind
    assert type(failed).__name__ == "Failed" and failed.leg == 0
    assert failed.status_code == 4000 and "not sent" in failed.reason
    assert type(responded).__name__ == "Responded"
    assert (responded.http_status, responded.ocpi_status) == (503, 4000)
    # The ledger holds exactly what the requester got.
    (body,) = recorder.behind_bodies
    assert body.data == answer.body and responded.body_sha256 == body.sha256


def test_a_refused_record_that_never_lands_adds_nothing() -> None:
    recorder = SlowRecorder(still_under_way=True)
    handle_with(recorder)
    assert recorder.behind == []
