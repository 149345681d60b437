"""The HTTP deliverer sends the URL the routing service built, or nothing."""

from __future__ import annotations

import asyncio

import httpx

from application.delivery import Delivered, Delivery, DeliveryFailed, Target
from domain.status_codes import HubError
from domain.values import PartyRef
from infrastructure.forwarder import HttpDeliverer

TARGET = Target(PartyRef("NL", "CPA"), "c1", "direct", "https://cpo.example.com/ocpi/x")


def deliver(url: str) -> tuple[object, list[str]]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"status_code": 1000})

    deliverer = HttpDeliverer(timeout=2, transport=httpx.MockTransport(answer))

    async def run() -> object:
        try:
            return await deliverer.deliver(Delivery(TARGET, "GET", url, {}))
        finally:
            await deliverer.aclose()

    return asyncio.run(run()), seen


def test_a_url_the_http_client_would_normalise_is_not_sent() -> None:
    outcome, seen = deliver("https://cpo.example.com/ocpi/2.2.1/locations/sender/../../credentials")
    assert seen == []
    assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.GENERIC
    assert "not sent" in outcome.reason and "/ocpi/2.2.1/credentials" in outcome.reason


def test_a_url_with_encoded_ids_is_sent_exactly_as_built() -> None:
    outcome, seen = deliver("https://cpo.example.com/ocpi/x/NL/CPA/L%3B1?type=RFID")
    assert isinstance(outcome, Delivered)
    assert seen == ["/ocpi/x/NL/CPA/L%3B1?type=RFID"]


def deliver_with(answers: dict[str, httpx.Response], url: str) -> tuple[object, list[str]]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return answers.get(str(request.url), httpx.Response(200, json={"status_code": 1000}))

    deliverer = HttpDeliverer(timeout=2, transport=httpx.MockTransport(answer))

    async def run() -> object:
        try:
            return await deliverer.deliver(Delivery(TARGET, "PUT", url, {}, b"{}"))
        finally:
            await deliverer.aclose()

    return asyncio.run(run()), seen


ENDPOINT = "https://cpo.example.com/ocpi/x/locations"


def test_a_trailing_slash_redirect_is_followed_once_with_the_same_method_and_body() -> None:
    moved = httpx.Response(307, headers={"location": ENDPOINT + "/"})
    outcome, seen = deliver_with({ENDPOINT: moved}, ENDPOINT)
    assert isinstance(outcome, Delivered) and outcome.redirected_to == ENDPOINT + "/"
    assert seen == [ENDPOINT, ENDPOINT + "/"]


def test_a_redirect_loop_is_not_followed_twice() -> None:
    outcome, seen = deliver_with(
        {
            ENDPOINT: httpx.Response(307, headers={"location": ENDPOINT + "/"}),
            ENDPOINT + "/": httpx.Response(307, headers={"location": ENDPOINT}),
        },
        ENDPOINT,
    )
    assert isinstance(outcome, DeliveryFailed) and "not followed" in outcome.reason
    assert len(seen) == 2


def test_a_redirect_to_another_origin_is_refused_naming_where_it_pointed() -> None:
    elsewhere = "https://evil.example.com/collect"
    outcome, seen = deliver_with(
        {ENDPOINT: httpx.Response(302, headers={"location": elsewhere})}, ENDPOINT
    )
    assert isinstance(outcome, DeliveryFailed) and outcome.status_code is HubError.GENERIC
    assert elsewhere in outcome.reason and seen == [ENDPOINT]


def test_a_304_is_an_answer_relayed_like_any_other_not_a_redirect() -> None:
    outcome, seen = deliver_with({ENDPOINT: httpx.Response(304)}, ENDPOINT)
    assert isinstance(outcome, Delivered) and outcome.http_status == 304
    assert seen == [ENDPOINT]
