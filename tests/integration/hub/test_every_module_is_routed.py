# ruff: noqa: E501  (the operation table reads best one case per line)
"""Every functional module and interface, routed directly through the hub (table-driven).

For each operation of digest §2.12: the receiver gets the request at its own endpoint with the
same path, query and body bytes, a new X-Request-ID, the same X-Correlation-ID, routing headers
unchanged and the hub's token for it; the requester gets the receiver's status and body bytes
with its own X-Request-ID and swapped routing headers; the ledger holds the whole exchange.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from domain.values import PartyRef, Role
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_platform import Reply
from tests.support.hub import HubUnderTest, Peer


@dataclass(frozen=True)
class Case:
    name: str
    sender: Role
    receiver: Role
    method: str
    module: str
    interface: str
    path: str = ""
    query: str = ""
    body: bytes | None = None
    rewrites_response_url: bool = False


LOCATION = b'{"country_code": "NL", "party_id": "{from}", "id": "LOC1", "price": 1.10, "x-unknown": [1, 2]}'
CALLBACK = b'{"response_url": "https://emsp.example.com/cb/1", "location_id": "LOC1", "token": {"uid": "U1"}}'
PROFILE = b'{"charging_profile": {"charging_rate_unit": "W"}, "response_url": "https://scsp.example.com/cb/9"}'

CASES = [
    Case("locations push", Role.CPO, Role.EMSP, "PUT", "locations", "receiver", "/NL/{from}/LOC1", body=LOCATION),
    Case("evse patch", Role.CPO, Role.EMSP, "PATCH", "locations", "receiver", "/NL/{from}/LOC1/EVSE1", body=b'{"status":"CHARGING","last_updated":"2024-01-01T00:00:00Z"}'),
    Case("location validation get", Role.CPO, Role.EMSP, "GET", "locations", "receiver", "/NL/{from}/LOC1"),
    Case("locations list", Role.EMSP, Role.CPO, "GET", "locations", "sender", query="offset=0&limit=10"),
    Case("connector get", Role.EMSP, Role.CPO, "GET", "locations", "sender", "/LOC1/EVSE1/1"),
    Case("session push", Role.CPO, Role.EMSP, "PUT", "sessions", "receiver", "/NL/{from}/S1", body=b'{"id":"S1","kwh":0.5}'),
    Case("session patch", Role.CPO, Role.EMSP, "PATCH", "sessions", "receiver", "/NL/{from}/S1", body=b'{"kwh":1.5,"last_updated":"2024-01-01T00:00:00Z"}'),
    Case("sessions list", Role.EMSP, Role.CPO, "GET", "sessions", "sender", query="date_from=2024-01-01T00:00:00Z"),
    Case("charging preferences", Role.EMSP, Role.CPO, "PUT", "sessions", "sender", "/S1/charging_preferences", body=b'{"profile_type":"FAST"}'),
    Case("cdr post", Role.CPO, Role.EMSP, "POST", "cdrs", "receiver", body=b'{"id":"CDR1","total_cost":{"excl_vat":1.0}}'),
    Case("cdrs list", Role.EMSP, Role.CPO, "GET", "cdrs", "sender", query="date_from=2024-01-01T00:00:00Z&limit=5"),
    Case("tariff push", Role.CPO, Role.EMSP, "PUT", "tariffs", "receiver", "/NL/{from}/T1", body=b'{"id":"T1","currency":"EUR"}'),
    Case("tariff delete", Role.CPO, Role.EMSP, "DELETE", "tariffs", "receiver", "/NL/{from}/T1"),
    Case("tariffs list", Role.EMSP, Role.CPO, "GET", "tariffs", "sender"),
    Case("token push", Role.EMSP, Role.CPO, "PUT", "tokens", "receiver", "/NL/{from}/UID1", "type=RFID", body=b'{"uid":"UID1","valid":true}'),
    Case("token patch", Role.EMSP, Role.CPO, "PATCH", "tokens", "receiver", "/NL/{from}/UID1", body=b'{"valid":false,"last_updated":"2024-01-01T00:00:00Z"}'),
    Case("token validation get", Role.EMSP, Role.CPO, "GET", "tokens", "receiver", "/NL/{from}/UID1", "type=APP_USER"),
    Case("tokens list", Role.CPO, Role.EMSP, "GET", "tokens", "sender", query="offset=5"),
    Case("authorize", Role.CPO, Role.EMSP, "POST", "tokens", "sender", "/UID1/authorize", "type=RFID", body=b'{"location_id":"LOC1"}'),
    Case("start session", Role.EMSP, Role.CPO, "POST", "commands", "receiver", "/START_SESSION", body=CALLBACK, rewrites_response_url=True),
    Case("set charging profile", Role.SCSP, Role.CPO, "PUT", "chargingprofiles", "receiver", "/S1", body=PROFILE, rewrites_response_url=True),
    Case("get charging profile", Role.SCSP, Role.CPO, "GET", "chargingprofiles", "receiver", "/S1", "duration=900&response_url=https%3A%2F%2Fscsp.example.com%2Fcb%2F2", rewrites_response_url=True),
    Case("clear charging profile", Role.SCSP, Role.CPO, "DELETE", "chargingprofiles", "receiver", "/S1", "response_url=https%3A%2F%2Fscsp.example.com%2Fcb%2F3", rewrites_response_url=True),
    Case("active profile update", Role.CPO, Role.SCSP, "PUT", "chargingprofiles", "sender", "/S1", body=b'{"start_date_time":"2024-01-01T00:00:00Z"}'),
]  # fmt: skip


@pytest.fixture(scope="module")
def network(module_database_url: DatabaseUrl) -> Iterator[tuple[HubUnderTest, dict[Role, Peer]]]:
    with HubUnderTest(module_database_url) as hub:
        peers = {role: hub.connect(role) for role in (Role.CPO, Role.EMSP, Role.SCSP)}
        yield hub, peers


def _reply(case: Case) -> bytes:
    # Odd spacing, key order and number precision: relayed bytes must survive untouched.
    return (
        b'{"data": {"case": "'
        + case.name.encode()
        + b'", "n": 1.50},  "status_code": 1000,'
        + (b' "timestamp": "2024-01-01T00:00:00Z"}')
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_hub_routes_the_operation_to_the_addressed_party_and_back(
    network: tuple[HubUnderTest, dict[Role, Peer]], case: Case
) -> None:
    hub, peers = network
    sender, receiver = peers[case.sender], peers[case.receiver]
    path = case.path.replace("{from}", sender.party.party_id)
    body = case.body.replace(b"{from}", sender.party.party_id.encode()) if case.body else None
    receiver_path = receiver.platform.endpoint(case.module, case.interface).split(":", 2)[2]
    receiver_path = receiver_path[receiver_path.index("/") :] + path
    receiver.platform.on(case.method, receiver_path, Reply(201, _reply(case)))
    seen = len(receiver.platform.requests)

    query = f"?{case.query}" if case.query else ""
    response = sender.call(
        case.method,
        case.module,
        case.interface,
        path + query,
        to=receiver.party,
        body=body,
        request_id=f"req-{case.name}",
    )

    assert response.status_code == 201
    assert response.content == _reply(case)
    assert response.headers["x-request-id"] == f"req-{case.name}"
    assert _party(response.headers, "to") == sender.party
    assert _party(response.headers, "from") == receiver.party

    forwarded = receiver.platform.wait_for(seen + 1)[seen]
    assert forwarded.method == case.method
    assert forwarded.path == receiver_path
    assert forwarded.headers["authorization"] == receiver.expected_authorization()
    assert forwarded.headers["x-request-id"] != f"req-{case.name}"
    assert _party(forwarded.headers, "to") == receiver.party
    assert _party(forwarded.headers, "from") == sender.party
    if case.rewrites_response_url:
        _assert_response_url_replaced(hub, case, body, query, forwarded)
    else:
        assert forwarded.query == case.query
        assert forwarded.body == (body or b"")

    events = hub.events(sender, f"req-{case.name}")
    names = [type(event).__name__ for event in events]
    assert names == ["Received", "Routed", "Forwarded", "Answered", "Responded"]
    received, routed, leg, answered, responded = events
    assert "authorization" not in received.headers
    assert received.headers["x-correlation-id"] == forwarded.headers["x-correlation-id"]
    assert routed.classification == "DIRECT" and routed.targets == [str(receiver.party)]
    assert leg.request_id == forwarded.headers["x-request-id"]
    assert answered.http_status == 201 and answered.ocpi_status == 1000
    assert responded.http_status == 201 and hub.body(responded.body_sha256) == _reply(case)
    if body:
        assert hub.body(received.body_sha256) == body
        assert hub.body(leg.body_sha256) == forwarded.body


def _assert_response_url_replaced(
    hub: HubUnderTest, case: Case, body: bytes | None, query: str, forwarded: object
) -> None:
    prefix = f"{hub.url}/ocpi/2.2.1/{case.module}/sender/callbacks/"
    if body:
        sent = json.loads(forwarded.body)  # type: ignore[attr-defined]
        assert sent["response_url"].startswith(prefix)
        original = json.loads(body)
        assert {k: v for k, v in sent.items() if k != "response_url"} == {
            k: v for k, v in original.items() if k != "response_url"
        }
    else:
        from urllib.parse import parse_qs

        params = parse_qs(forwarded.query)  # type: ignore[attr-defined]
        assert params["response_url"][0].startswith(prefix)
        assert forwarded.query.startswith("duration=900") == query.startswith("?duration")  # type: ignore[attr-defined]


def _party(headers: object, direction: str) -> PartyRef:
    return PartyRef(
        headers[f"ocpi-{direction}-country-code"],  # type: ignore[index]
        headers[f"ocpi-{direction}-party-id"],  # type: ignore[index]
    )


def test_a_raw_token_peer_gets_its_token_unencoded(
    network: tuple[HubUnderTest, dict[Role, Peer]],
) -> None:
    hub, peers = network
    raw = hub.connect(Role.EMSP, encoding="raw")
    peers[Role.CPO].call("GET", "tokens", "sender", to=raw.party, request_id="raw-1")
    forwarded = raw.platform.wait_for(1)[0]
    assert forwarded.headers["authorization"] == f"Token {raw.outbound_token}"
    assert (
        base64.b64encode(raw.outbound_token.encode()).decode()
        not in forwarded.headers["authorization"]
    )
