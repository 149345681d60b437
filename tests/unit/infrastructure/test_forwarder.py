"""The HTTP deliverer, against a receiver on a real loopback socket: it sends the URL the routing
service built byte for byte or nothing, follows only a trailing-slash redirect, bounds every leg
(deadline, size, concurrency) and relays what the receiver said."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.delivery import Delivered, Delivery, DeliveryFailed, DeliveryOutcome, Target
from domain.status_codes import HubError
from domain.values import PartyRef
from infrastructure.forwarder import HttpDeliverer
from tests.support.scripted_receiver import (
    ScriptedReceiver,
    SeenRequest,
    Writer,
    answering,
    response,
)

T = TypeVar("T")


def with_receiver(
    receiver: ScriptedReceiver,
    run: Callable[[str, HttpDeliverer], Awaitable[T]],
    **options: float,
) -> T:
    async def main() -> T:
        base = await receiver.start()
        deliverer = HttpDeliverer(**{"timeout": 2.0, **options})  # type: ignore[arg-type]
        try:
            return await run(base, deliverer)
        finally:
            await deliverer.aclose()
            await receiver.stop()

    return asyncio.run(main())


def target(base: str, route_key: str = "c1") -> Target:
    return Target(PartyRef("NL", "CPA"), route_key, "direct", base + "/ocpi/x")


def deliver_one(
    receiver: ScriptedReceiver,
    path: str,
    method: str = "GET",
    body: bytes = b"",
    **options: float,
) -> DeliveryOutcome:
    async def run(base: str, deliverer: HttpDeliverer) -> DeliveryOutcome:
        return await deliverer.deliver(Delivery(target(base), method, base + path, {}, body))

    return with_receiver(receiver, run, **options)


def test_a_url_with_dot_segments_is_not_sent() -> None:
    receiver = ScriptedReceiver()
    for path in ("/ocpi/2.2.1/locations/sender/../../credentials", "/ocpi/x/%2e%2e/credentials"):
        outcome = deliver_one(receiver, path)
        assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.GENERIC
        assert "not sent" in outcome.reason and "dot segments" in outcome.reason
    assert receiver.seen == []


def test_a_url_with_a_space_is_not_sent_rather_than_re_encoded() -> None:
    receiver = ScriptedReceiver()
    outcome = deliver_one(receiver, "/ocpi/x/L 1")
    assert isinstance(outcome, DeliveryFailed) and "not a valid HTTP request target" in (
        outcome.reason
    )
    assert receiver.seen == []


def test_a_url_with_encoded_ids_is_sent_exactly_as_built() -> None:
    receiver = ScriptedReceiver()
    outcome = deliver_one(receiver, "/ocpi/x/NL/CPA/L%3B1%2Fa?type=RFID&x=%41")
    assert isinstance(outcome, Delivered) and outcome.http_status == 200
    assert [r.target for r in receiver.seen] == ["/ocpi/x/NL/CPA/L%3B1%2Fa?type=RFID&x=%41"]


ENDPOINT = "/ocpi/x/locations"


def test_a_trailing_slash_redirect_is_followed_once_with_the_same_method_and_body() -> None:
    async def moved(_request: SeenRequest, writer: Writer) -> None:
        writer.write(response(307, b"", [("location", ENDPOINT + "/")]))

    receiver = ScriptedReceiver({ENDPOINT: moved})
    outcome = deliver_one(receiver, ENDPOINT, "PUT", b'{"id":"L1"}')
    assert isinstance(outcome, Delivered) and outcome.redirected_to
    assert outcome.redirected_to.endswith(ENDPOINT + "/")
    assert [(r.method, r.target, r.body) for r in receiver.seen] == [
        ("PUT", ENDPOINT, b'{"id":"L1"}'),
        ("PUT", ENDPOINT + "/", b'{"id":"L1"}'),
    ]


def test_a_redirect_loop_is_not_followed_twice() -> None:
    receiver = ScriptedReceiver(
        {
            ENDPOINT: answering(response(307, b"", [("location", ENDPOINT + "/")])),
            ENDPOINT + "/": answering(response(307, b"", [("location", ENDPOINT)])),
        }
    )
    outcome = deliver_one(receiver, ENDPOINT)
    assert isinstance(outcome, DeliveryFailed) and "not followed" in outcome.reason
    assert len(receiver.seen) == 2


def test_a_redirect_to_another_origin_is_refused_naming_where_it_pointed() -> None:
    elsewhere = "https://evil.example.com/collect"
    receiver = ScriptedReceiver(
        {ENDPOINT: answering(response(302, b"", [("location", elsewhere)]))}
    )
    outcome = deliver_one(receiver, ENDPOINT)
    assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.GENERIC
    assert elsewhere in outcome.reason and len(receiver.seen) == 1


def test_a_304_is_an_answer_relayed_like_any_other_not_a_redirect() -> None:
    receiver = ScriptedReceiver({ENDPOINT: answering(response(304))})
    outcome = deliver_one(receiver, ENDPOINT)
    assert isinstance(outcome, Delivered) and outcome.http_status == 304
    assert len(receiver.seen) == 1


def test_a_receiver_dribbling_its_answer_ends_in_4002_at_the_deadline() -> None:
    async def dribble(_request: SeenRequest, writer: Writer) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        for _ in range(1000):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)

    receiver = ScriptedReceiver(default=dribble)
    outcome = deliver_one(receiver, ENDPOINT, timeout=0.5)
    assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.TIMEOUT
    assert 450 < outcome.latency_ms < 1500


def test_a_receiver_that_cannot_be_reached_is_4003() -> None:
    async def run(_base: str, deliverer: HttpDeliverer) -> DeliveryOutcome:
        closed = "http://127.0.0.1:9"  # discard port: nothing listens on loopback
        return await deliverer.deliver(Delivery(target(closed), "GET", closed + "/x", {}))

    outcome = with_receiver(ScriptedReceiver(), run)
    assert isinstance(outcome, DeliveryFailed)
    assert outcome.status_code is HubError.CONNECTION_PROBLEM


def test_an_answer_over_the_size_limit_is_cut_off_with_4000_declared_or_not() -> None:
    big = b"x" * 5000
    for length in (True, False):
        receiver = ScriptedReceiver(default=answering(response(200, big, length=length)))
        outcome = deliver_one(receiver, ENDPOINT, max_response_bytes=4096)
        assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.GENERIC
        assert "larger than 4096 bytes" in outcome.reason


def test_response_headers_come_lower_cased_and_repeats_joined() -> None:
    headers = [("Content-Type", "application/json"), ("X-Thing", "a"), ("X-Thing", "b")]
    receiver = ScriptedReceiver(default=answering(response(200, b"{}", headers)))
    outcome = deliver_one(receiver, ENDPOINT)
    assert isinstance(outcome, Delivered)
    assert outcome.headers["content-type"] == "application/json"
    assert outcome.headers["x-thing"] == "a, b"


def test_a_compressed_answer_is_relayed_as_the_bytes_it_stands_for() -> None:
    plain = b'{"status_code":1000,"data":"' + b"z" * 2000 + b'"}'
    packed = response(200, gzip.compress(plain), [("content-encoding", "gzip")])
    receiver = ScriptedReceiver(default=answering(packed))
    outcome = deliver_one(receiver, ENDPOINT)
    assert isinstance(outcome, Delivered) and outcome.body == plain


def test_connections_are_kept_alive_and_no_cookie_is_carried_to_the_next_message() -> None:
    cookie = [("set-cookie", "session=secret; Path=/")]
    receiver = ScriptedReceiver(default=answering(response(200, b"{}", cookie)))

    async def run(base: str, deliverer: HttpDeliverer) -> None:
        for _ in range(3):
            await deliverer.deliver(Delivery(target(base), "GET", base + ENDPOINT, {}))

    with_receiver(receiver, run)
    assert [r.connection for r in receiver.seen] == [0, 0, 0]
    assert all("cookie" not in r.headers for r in receiver.seen)


def test_a_receiver_gets_at_most_its_concurrency_limit_at_once() -> None:
    release = asyncio.Event()

    async def slow(_request: SeenRequest, writer: Writer) -> None:
        await release.wait()
        writer.write(response(200))
        await writer.drain()

    receiver = ScriptedReceiver(default=slow)

    async def run(base: str, deliverer: HttpDeliverer) -> list[DeliveryOutcome]:
        sends = [
            asyncio.ensure_future(
                deliverer.deliver(Delivery(target(base), "GET", base + ENDPOINT, {}))
            )
            for _ in range(5)
        ]
        await asyncio.sleep(0.3)
        in_flight_before_release = receiver.in_flight
        release.set()
        outcomes = await asyncio.gather(*sends)
        assert in_flight_before_release == 2
        return outcomes

    outcomes = with_receiver(receiver, run, per_receiver_concurrency=2)
    assert all(isinstance(o, Delivered) for o in outcomes)
    assert receiver.most_in_flight == 2 and len(receiver.seen) == 5
