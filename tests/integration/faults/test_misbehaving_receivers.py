"""Receivers that hang, fail, answer garbage or far too much: each is bounded, answered with a
clear code, recorded, and none can slow the traffic to other receivers.

Decision: a receiver's own answer (any HTTP status, an HTML error page, half a JSON document) is
relayed to the requester as is and recorded as Answered with its HTTP status and the OCPI
status it carried, if any (audit outcome "error" for a 5xx): the hub does not rewrite what a
receiver said, and the sender sees the real failure. Only what the hub itself cut off becomes
a hub code: 4002 for no answer in time, 4003 for no connection, 4000 for an answer over the
size limit.
"""

from __future__ import annotations

import base64
import threading
import time

import httpx

from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest, Peer

HTML_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
TRUNCATED = envelope({"id": "L1", "name": "x" * 64})[:40]


def _audit_outcome(hub: HubUnderTest, message_id: str) -> str:
    hub.node.runners["audit"].wait(hub.node.ledger.recorder.max_notification_id())
    summary = hub.node.services.audit_view.summary(message_id)
    assert summary is not None
    return str(summary["outcome"])


def test_error_pages_5xx_and_truncated_json_are_relayed_as_is_and_recorded(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cases = {
        "html": Reply(502, HTML_PAGE, {"content-type": "text/html"}),
        "5xx": Reply(500, envelope(status_code=3000, message="boom")),
        "truncated": Reply(200, TRUNCATED),
    }
    for name, reply in cases.items():
        cpo = hub.connect(Role.CPO)
        cpo.platform.on("GET", "/", reply)
        answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id=name)
        assert answer.status_code == reply.status, name
        assert answer.content == reply.body, name
        events = hub.events(emsp, name)
        assert [type(e).__name__ for e in events] == [
            "Received", "Routed", "Forwarded", "Answered", "Responded",
        ]  # fmt: skip
        assert events[3].http_status == reply.status
        expected_status = 3000 if name == "5xx" else None
        assert events[3].ocpi_status == expected_status
        if reply.status >= 500:
            assert _audit_outcome(hub, str(events[0].originator_id)) == "error"


def test_an_answer_over_the_size_limit_is_cut_off_with_4000(database_url: DatabaseUrl) -> None:
    with HubUnderTest(database_url, forward_timeout=2.0, max_body_bytes=64 * 1024) as hub:
        emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
        cpo.platform.on("GET", "/", Reply(200, envelope("x" * 256 * 1024)))
        answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="huge")
        assert answer.json()["status_code"] == 4000
        assert "larger than 65536 bytes" in answer.json()["status_message"]
        failed = hub.events(emsp, "huge")[3]
        assert type(failed).__name__ == "Failed" and failed.status_code == 4000


def test_a_hanging_receiver_with_many_requests_queued_does_not_slow_another_receiver(
    database_url: DatabaseUrl,
) -> None:
    with HubUnderTest(database_url, forward_timeout=3.0, receiver_concurrency=2) as hub:
        emsp = hub.connect(Role.EMSP)
        stuck, healthy = hub.connect(Role.CPO), hub.connect(Role.CPO)
        stuck.platform.on("GET", "/", Reply(hang=True))
        answers: list[int] = []

        def call_stuck(number: int) -> None:
            with httpx.Client(timeout=10) as client:
                response = client.get(
                    f"{hub.url}/ocpi/2.2.1/locations/sender",
                    headers={**_headers(emsp, stuck), "x-request-id": f"stuck-{number}"},
                )
                answers.append(response.json()["status_code"])

        # 2 in flight at the receiver, 10 queued behind its concurrency limit.
        threads = [threading.Thread(target=call_stuck, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        stuck.platform.wait_for(2)
        latencies = []
        for number in range(20):
            started = time.perf_counter()
            answer = emsp.call("GET", "locations", "sender", to=healthy.party)
            latencies.append(time.perf_counter() - started)
            assert answer.json()["status_code"] == 1000, number
        for thread in threads:
            thread.join(10)

        assert max(latencies) < 0.5, latencies
        assert answers == [4002] * 12
        # Most queued ones never reached the hanging receiver: the limit held (a slot freed by
        # the first timeouts may let a late-starting one through before its own deadline).
        assert len(stuck.platform.requests) < 12
        assert len(healthy.platform.requests) == 20


def _headers(sender: Peer, receiver: Peer) -> dict[str, str]:
    frm, to = sender.party, receiver.party
    return {
        "authorization": "Token " + base64.b64encode(sender.token.encode()).decode(),
        "ocpi-from-country-code": frm.country_code,
        "ocpi-from-party-id": frm.party_id,
        "ocpi-to-country-code": to.country_code,
        "ocpi-to-party-id": to.party_id,
    }


def test_a_binary_answer_is_relayed_and_the_ledger_chain_still_verifies(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    cpo.platform.on("GET", "/", Reply(200, b"\x00\xff not json"))
    answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="bin")
    assert answer.content == b"\x00\xff not json"
    report = hub.verify_ledger()
    assert report.ok and report.records >= 2, report.problems
