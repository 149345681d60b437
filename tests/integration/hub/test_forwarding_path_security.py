"""Hostile and careless callers over real HTTP (both stores): no request reaches past the
receiver's endpoint, repeated routing headers are refused, a request without OCPI-from is
answered and recorded, never a 500."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from urllib.parse import urlsplit

import pytest

from domain.values import OCPI_VERSION, Role
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest, Peer


def raw_request(
    peer: Peer,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes = b"",
) -> tuple[int, dict[str, object]]:
    """Send exactly `path` (http.client neither normalises nor re-encodes it)."""
    parts = urlsplit(peer.hub.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        token = base64.b64encode(peer.token.encode()).decode()
        for name, value in [("Authorization", f"Token {token}"), *headers]:
            connection.putheader(name, value)
        if body:
            connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def routing_headers(sender: Peer, receiver: Peer, request_id: str) -> list[tuple[str, str]]:
    return [
        ("OCPI-from-country-code", sender.party.country_code),
        ("OCPI-from-party-id", sender.party.party_id),
        ("OCPI-to-country-code", receiver.party.country_code),
        ("OCPI-to-party-id", receiver.party.party_id),
        ("X-Request-ID", request_id),
        ("X-Correlation-ID", str(uuid.uuid4())),
    ]


BASE = f"/ocpi/{OCPI_VERSION}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{BASE}/locations/sender/../../credentials"),
        ("GET", f"{BASE}/locations/sender/%2e%2e/%2e%2e/credentials"),
        ("GET", f"{BASE}/locations/sender/..%2F..%2Fcredentials"),
        ("GET", f"{BASE}/locations/sender/.."),
        ("PUT", f"{BASE}/locations/receiver/NL/{{owner}}/.."),
    ],
)
def test_no_caller_reaches_another_endpoint_of_the_receiver_through_dot_segments(
    hub: HubUnderTest, method: str, path: str
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    sender, receiver = (emsp, cpo) if method == "GET" else (cpo, emsp)
    request_id = str(uuid.uuid4())
    status, answer = raw_request(
        sender,
        method,
        path.replace("{owner}", sender.party.party_id),
        routing_headers(sender, receiver, request_id),
        b'{"id": "LOC1"}' if method == "PUT" else b"",
    )

    assert status < 500 and answer["status_code"] == 2001
    assert "path segment" in str(answer["status_message"])
    assert receiver.platform.requests == []
    names = hub.event_names(sender, request_id)
    assert names == ["Received", "Refused", "Responded"]


def test_a_safe_id_reaches_the_receiver_exactly_below_its_endpoint(hub: HubUnderTest) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    status, answer = raw_request(
        emsp, "GET", f"{BASE}/locations/sender/LOC%2D1", routing_headers(emsp, cpo, "safe-1")
    )
    assert (status, answer["status_code"]) == (200, 1000)
    (received,) = cpo.platform.requests
    assert received.raw_path == f"{BASE}/locations/sender/LOC-1"


def test_two_different_ocpi_to_values_are_refused_and_reach_nobody(hub: HubUnderTest) -> None:
    emsp, cpo_a, cpo_b = hub.connect(Role.EMSP), hub.connect(Role.CPO), hub.connect(Role.CPO)
    headers = routing_headers(emsp, cpo_a, "twice-1")
    headers.append(("ocpi-to-party-id", cpo_b.party.party_id))
    status, answer = raw_request(emsp, "GET", f"{BASE}/locations/sender", headers)

    assert status < 500 and answer["status_code"] == 2001
    assert "given more than once" in str(answer["status_message"])
    assert cpo_a.platform.requests == [] and cpo_b.platform.requests == []
    assert hub.event_names(emsp, "twice-1") == ["Received", "Refused", "Responded"]


def test_a_push_without_ocpi_from_is_relayed_and_its_outcome_recorded(hub: HubUnderTest) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    session = {"id": "S1", "country_code": "NL", "party_id": cpo.party.party_id}
    answer = cpo.call(
        "PUT",
        "sessions",
        "receiver",
        f"/NL/{cpo.party.party_id}/S1",
        to=emsp.party,
        body=session,
        headers={"ocpi-from-country-code": "", "ocpi-from-party-id": ""},
        request_id="no-from-1",
    )

    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    assert answer.headers["ocpi-to-party-id"] == cpo.party.party_id
    (delivered,) = emsp.platform.requests
    assert delivered.headers["ocpi-from-party-id"] == cpo.party.party_id
    events = hub.wait_for_events(cpo, "no-from-1", lambda names: names[-1:] == ["Responded"])
    assert [type(e).__name__ for e in events][-2:] == ["Answered", "Responded"]
    assert events[0].sender_inferred is True and events[0].from_party == str(cpo.party)


def test_a_command_result_posted_without_routing_headers_reaches_the_requester(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    accepted = envelope({"result": "ACCEPTED", "timeout": 30})
    cpo.platform.on("POST", cpo.platform.endpoint("commands", "receiver"), Reply(body=accepted))
    command = {
        "response_url": f"{emsp.platform.base}/commands/START_SESSION/1",
        "token": {"uid": "U1"},
        "location_id": "LOC1",
    }
    answer = emsp.call("POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command)
    assert answer.json()["status_code"] == 1000
    (forwarded,) = cpo.platform.requests
    callback = json.loads(forwarded.body)["response_url"]

    result = hub.client.post(
        callback,
        headers={
            "authorization": "Token " + base64.b64encode(cpo.token.encode()).decode(),
            "content-type": "application/json",
        },
        content=json.dumps({"result": "ACCEPTED"}).encode(),
    )

    assert result.status_code == 200 and result.json()["status_code"] == 1000
    (delivered,) = emsp.platform.requests
    assert delivered.path == f"/ocpi/{OCPI_VERSION}/commands/START_SESSION/1"
    assert delivered.headers["ocpi-from-party-id"] == cpo.party.party_id
    request_id = result.headers["x-request-id"]
    events = hub.wait_for_events(cpo, request_id, lambda names: names[-1:] == ["Responded"])
    assert events[0].sender_inferred is True
