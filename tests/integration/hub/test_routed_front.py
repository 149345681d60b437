"""The raw ASGI front that takes routed requests before FastAPI (api/routed_front.py), over real
HTTP on both stores: a body over the limit is refused on record with 413, whether or not its
length was declared; an unknown token gets the 401 envelope with the request's ids; what is no
routed endpoint still reaches FastAPI's refusal."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from urllib.parse import urlsplit

from domain.values import OCPI_VERSION, Role
from infrastructure.database_url import DatabaseUrl
from tests.support.hub import HubUnderTest, Peer

LIMIT = 4096


def push_chunked(sender: Peer, receiver: Peer, request_id: str, body: bytes) -> tuple[int, dict]:
    """A PUT whose body comes in chunks without Content-Length, so only counting can stop it."""
    parts = urlsplit(sender.hub.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        path = f"/ocpi/{OCPI_VERSION}/locations/receiver/NL/{sender.party.party_id}/L1"
        connection.putrequest("PUT", path)
        headers = {
            "Authorization": "Token " + base64.b64encode(sender.token.encode()).decode(),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "X-Request-ID": request_id,
            "X-Correlation-ID": str(uuid.uuid4()),
            "OCPI-from-country-code": sender.party.country_code,
            "OCPI-from-party-id": sender.party.party_id,
            "OCPI-to-country-code": receiver.party.country_code,
            "OCPI-to-party-id": receiver.party.party_id,
        }
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        for start in range(0, len(body), 1000):
            chunk = body[start : start + 1000]
            connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_body_over_the_limit_is_refused_on_record_with_413_declared_or_not(
    database_url: DatabaseUrl,
) -> None:
    with HubUnderTest(database_url, max_body_bytes=LIMIT) as hub:
        cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
        big = json.dumps({"id": "L1", "name": "x" * (2 * LIMIT)}).encode()
        declared = cpo.call(
            "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/L1",
            to=emsp.party, body=big, request_id="big-declared",
        )  # fmt: skip
        status, answer = push_chunked(cpo, emsp, "big-chunked", big)

        assert declared.status_code == 413 and status == 413
        for envelope in (declared.json(), answer):
            assert envelope["status_code"] == 2001
            assert f"larger than {LIMIT} bytes" in envelope["status_message"]
        assert declared.headers["x-request-id"] == "big-declared"
        for request_id in ("big-declared", "big-chunked"):
            assert hub.event_names(cpo, request_id) == ["Received", "Refused", "Responded"]
        assert emsp.platform.requests == []


def test_an_unknown_token_gets_the_401_envelope_with_the_request_ids(hub: HubUnderTest) -> None:
    response = hub.client.put(
        f"{hub.url}/ocpi/{OCPI_VERSION}/tokens/receiver/NL/EMA/1",
        headers={
            "authorization": "Token bm9wZQ==",
            "x-request-id": "who-are-you",
            "x-correlation-id": "c-1",
        },
        content=b"{}",
    )
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000
    assert response.headers["content-type"] == "application/json"
    assert (response.headers["x-request-id"], response.headers["x-correlation-id"]) == (
        "who-are-you",
        "c-1",
    )


def test_without_request_ids_a_401_still_carries_new_ones(hub: HubUnderTest) -> None:
    response = hub.client.get(
        f"{hub.url}/ocpi/{OCPI_VERSION}/locations/sender", headers={"authorization": "Token x"}
    )
    assert response.status_code == 401
    assert uuid.UUID(response.headers["x-request-id"])
    assert uuid.UUID(response.headers["x-correlation-id"])


def test_a_method_no_routed_endpoint_takes_goes_on_to_the_refusal_on_record(
    hub: HubUnderTest,
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    answer = cpo.call("OPTIONS", "tokens", "sender", to=emsp.party, request_id="options-1")
    assert answer.status_code == 404 and answer.json()["status_code"] == 2000
    assert "no such endpoint" in answer.json()["status_message"]
    assert hub.event_names(cpo, "options-1") == ["Received", "Refused", "Responded"]
