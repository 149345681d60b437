"""Hostile input on the OCPI and admin APIs: malformed headers, bodies and encodings, oversize
requests, bad tokens and spoofing. Never a 500, never a stack trace, and the chain verifies."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from tests.support.hub import HubUnderTest, Peer


def _clean(response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


def _token(peer: Peer) -> str:
    return "Token " + base64.b64encode(peer.token.encode()).decode()


def test_malformed_headers_bodies_and_encodings_get_clear_errors_and_the_chain_verifies(
    database_url: DatabaseUrl,
) -> None:
    with HubUnderTest(database_url, forward_timeout=1.0, max_body_bytes=64 * 1024) as hub:
        emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
        url = f"{hub.url}/ocpi/2.2.1/sessions/receiver/NL/{emsp.party.party_id}/S1"
        to = {"ocpi-to-country-code": "NL", "ocpi-to-party-id": cpo.party.party_id}
        cases: list[tuple[dict[str, str], bytes]] = [
            ({"content-type": "application/json"}, b'{"id": "S1"\xff\xfe}'),
            ({"content-type": "application/json"}, b'{"id": "S\x001"}'),
            ({"content-type": "text/html"}, b"<html></html>"),
            ({"content-type": "application/json"}, b"\x00" * 100),
            ({"content-type": "application/json"}, b"{" * 5000),
            ({"content-type": "application/json"}, b"x" * (65 * 1024)),
            ({"ocpi-from-country-code": "N\u00e9".encode()}, b"{}"),  # type: ignore[dict-item]
            ({"ocpi-from-party-id": "TOO-LONG-PARTY"}, b"{}"),
            ({"x-request-id": "r" * 7000}, b"{}"),
            ({"x-junk": "j" * 60_000}, b"{}"),
        ]
        for extra, body in cases:
            headers = {"authorization": _token(emsp), **to, **extra}
            response = hub.client.put(url, headers=headers, content=body)
            _clean(response)
            assert response.status_code != 200 or response.json()["status_code"] != 1000, extra
        assert cpo.platform.requests == []
        report = hub.verify_ledger()
        assert report.ok, report.problems


def test_wrong_missing_and_token_a_credentials_are_refused(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    url = f"{hub.url}/ocpi/2.2.1/locations/sender"
    for authorization in (None, "Token", "Token !!!", "Bearer x", "Token " + "A" * 5000):
        headers = {} if authorization is None else {"authorization": authorization}
        response = hub.client.get(url, headers=headers)
        _clean(response)
        assert response.status_code == 401
    # Token A (an invitation's) may only be used for the credentials handshake.
    _id, token_a, _ = hub.node.registry.invite("stranger")
    response = hub.client.get(
        url, headers={"authorization": "Token " + base64.b64encode(token_a.encode()).decode()}
    )
    assert response.status_code == 401
    assert cpo.platform.requests == []


def test_the_admin_api_without_the_admin_token_is_refused(hub: HubUnderTest) -> None:
    for method, path in [
        ("GET", "/admin/messages"),
        ("GET", "/admin/connections"),
        ("POST", "/admin/invitations"),
        ("POST", "/admin/ledger/verify"),
    ]:
        for authorization in (None, "Bearer wrong-token-0123456789", "Token x"):
            headers = {} if authorization is None else {"authorization": authorization}
            response = hub.client.request(method, f"{hub.url}{path}", headers=headers)
            _clean(response)
            assert response.status_code in (401, 403), (method, path, response.status_code)


@pytest.fixture(scope="module")
def fuzzed_hub(tmp_path_factory: pytest.TempPathFactory) -> HubUnderTest:
    path = tmp_path_factory.mktemp("fuzz") / "ledger.db"
    from infrastructure.database_url import parse_database_url

    running = HubUnderTest(parse_database_url(f"sqlite:///{path}"), forward_timeout=1.0).start()
    yield running  # type: ignore[misc]
    running.stop()


def test_fuzzing_the_openapi_description_finds_no_server_error(fuzzed_hub: HubUnderTest) -> None:
    """schemathesis over the node's own OpenAPI description, bounded to stay CI-sized; with and
    without the admin token. The routed endpoints of every version are fuzzed with the token of
    a peer of that version too, so they reach the routing service and its translation."""
    peers = {
        "2.1.1": fuzzed_hub.connect(Role.CPO, version="2.1.1"),
        "2.2.1": fuzzed_hub.connect(Role.EMSP),
        "2.3.0": fuzzed_hub.connect(Role.EMSP, version="2.3.0"),
    }
    fuzzed_hub.connect(Role.CPO, version="2.3.0")  # a payments receiver for the 2.3.0 eMSP
    schema = schemathesis.openapi.from_url(f"{fuzzed_hub.url}/admin/openapi.json")
    paths = {result.ok().path for result in schema.get_all_operations()}
    assert "/ocpi/2.2.1/tokens/receiver/{rest}" in paths  # the routed endpoints are fuzzed too
    assert "/ocpi/2.2.1/{module}/{interface}/{rest}" in paths  # custom modules as well
    assert "/ocpi/2.1.1/locations/receiver/{rest}" in paths
    assert "/ocpi/2.1.1/chargingprofiles/receiver/{rest}" not in paths  # no such 2.1.1 module
    assert "/ocpi/2.3.0/sessions/sender/{rest}" in paths
    assert "/ocpi/2.3.0/payments/{interface}/{rest}" in paths
    failures: list[str] = []
    routed: dict[str, list[str]] = {version: [] for version in peers}
    for result in schema.get_all_operations():
        operation = result.ok()
        version = operation.path.removeprefix("/ocpi/").partition("/")[0]
        tokens = [_token(peers[version])] if version in peers and "{rest}" in operation.path else []
        for authorization in ("Bearer hub-admin-token-0123456789", *tokens, None):
            headers = {} if authorization is None else {"authorization": authorization}
            seen = routed[version] if authorization in tokens else None
            _fuzz(operation, headers, failures, seen)
    assert failures == []
    for version, answers in routed.items():
        # Answered by the routing service in the peer's own version, not refused at the door.
        assert [a for a in answers if "speaks OCPI" not in a], (version, answers[:5])


def _fuzz(
    operation: Any, headers: dict[str, str], failures: list[str], seen: list[str] | None = None
) -> None:
    @settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(operation.as_strategy())
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        # Admin bodies are declared now, so POST /admin/connections gets a valid one: a peer
        # at a made-up URL is the declared 502 (OCPI 3001), not a server error.
        failures.extend(_server_errors(case, response))
        if "Traceback" in response.text:
            failures.append(f"{case.method} {case.path}: stack trace")
        if seen is not None and response.status_code != 401:
            seen.append(response.text[:300])

    fuzz()


# No not_a_server_error: a peer that cannot be reached is a declared 502 (OCPI 3001), checked
# by _server_errors instead.
ADMIN_CHECKS = [
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


def test_fuzzing_the_admin_inputs_with_the_admin_token_gets_answers_the_schema_declares(
    fuzzed_hub: HubUnderTest,
) -> None:
    """Every admin body and query parameter is declared, so schemathesis generates them: valid
    ones and broken ones, each answered with a status and a body the description declares."""
    schema = schemathesis.openapi.from_url(f"{fuzzed_hub.url}/admin/openapi.json")
    admin = [
        result.ok()
        for result in schema.get_all_operations()
        if result.ok().path.startswith("/admin/")
    ]
    with_inputs = [op for op in admin if op.body or op.query]
    assert len(with_inputs) >= 11, [op.label for op in with_inputs]
    failures: list[str] = []
    headers = {"authorization": "Bearer hub-admin-token-0123456789"}
    for operation in admin:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_validated(operation, mode, headers, failures)
    assert failures == []


def _server_errors(case: schemathesis.Case, response: Any) -> list[str]:
    unreachable_peer = response.status_code == 502 and response.json()["status_code"] == 3001
    if response.status_code < 500 or response.status_code == 503 or unreachable_peer:
        return []
    return [f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"]


def _fuzz_validated(
    operation: Any, mode: GenerationMode, headers: dict[str, str], failures: list[str]
) -> None:
    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(operation.as_strategy(generation_mode=mode))
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=headers, timeout=30)
        failures.extend(_server_errors(case, response))
        try:
            case.validate_response(response, checks=ADMIN_CHECKS)
        except (AssertionError, FailureGroup) as error:
            failures.append(f"{mode.value} {case.method} {case.path}: {error}"[:1500])

    fuzz()
