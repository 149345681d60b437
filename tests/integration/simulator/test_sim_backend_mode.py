import asyncio
import base64
import time
from typing import Any

import pytest
from fastapi import FastAPI, Request

from simulator import SimParty, samples, start_in_thread
from simulator.auth import authorization_header

BACKEND_TOKEN = "backend-secret"
CPO = SimParty("NL", "CPO", "CPO")
EMSP_KEY = ("DE", "MSP")


def _fake_node(seen: list[dict[str, Any]]) -> FastAPI:
    """Stands in for the ocpi-ledger node: records egress calls and callbacks, answers 1000."""
    node = FastAPI()

    @node.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def anything(request: Request, path: str) -> dict[str, Any]:
        seen.append(
            {
                "method": request.method,
                "path": "/" + path,
                "query": request.url.query,
                "headers": dict(request.headers),
                "body": await request.body(),
            }
        )
        return {"status_code": 1000, "timestamp": "2024-01-01T00:00:00Z"}

    return node


@pytest.fixture
def node_and_backend(platform):
    seen: list[dict[str, Any]] = []
    node = start_in_thread(_fake_node(seen))
    backend = platform(CPO, mode="backend", backend_token=BACKEND_TOKEN, node_url=node.url)
    yield seen, node, backend
    node.stop()


def test_a_backend_pushes_through_the_nodes_egress_with_the_backend_token(node_and_backend):
    seen, _, backend = node_and_backend
    location = samples.location("NL", "CPO", "LOC7")
    response = asyncio.run(backend.sim.client("NL", "CPO").push_location(EMSP_KEY, location))
    assert response.status_code == 200
    call = seen[0]
    assert (call["method"], call["path"]) == ("PUT", "/egress/locations/receiver/NL/CPO/LOC7")
    encoded = base64.b64encode(BACKEND_TOKEN.encode()).decode()
    assert call["headers"]["authorization"] == f"Token {encoded}"
    assert call["headers"]["ocpi-to-party-id"] == "MSP"
    assert call["headers"]["ocpi-from-party-id"] == "CPO"


def test_a_hub_addressed_request_carries_no_to_headers(node_and_backend):
    seen, _, backend = node_and_backend
    asyncio.run(backend.sim.client("NL", "CPO").get_tokens(None))
    assert seen[0]["path"] == "/egress/tokens/sender"
    assert "ocpi-to-country-code" not in seen[0]["headers"]


def test_the_node_calls_the_backend_with_the_backend_token(node_and_backend):
    _, _, backend = node_and_backend
    backend.sim.seed("NL", "CPO", "locations", samples.location("NL", "CPO"))
    ok = backend.call("GET", "/ocpi/cpo/2.2.1/locations", BACKEND_TOKEN, to=("NL", "CPO"))
    assert [loc["id"] for loc in ok.json()["data"]] == ["LOC1"]
    refused = backend.call("GET", "/ocpi/cpo/2.2.1/locations", "guess", to=("NL", "CPO"))
    assert refused.status_code == 401


def test_a_backend_has_no_credentials_or_hubclientinfo(node_and_backend):
    _, _, backend = node_and_backend
    details = backend.call("GET", "/ocpi/2.2.1", BACKEND_TOKEN).json()["data"]["endpoints"]
    assert {e["identifier"] for e in details}.isdisjoint({"credentials", "hubclientinfo"})
    assert backend.call("GET", "/ocpi/2.2.1/credentials", BACKEND_TOKEN).status_code == 404


def test_a_backend_cpo_sends_command_results_to_the_node_with_the_backend_token(node_and_backend):
    seen, node, backend = node_and_backend
    body = samples.start_session(f"{node.url}/callbacks/42", samples.token(*EMSP_KEY), "LOC1")
    response = backend.call(
        "POST",
        "/ocpi/cpo/2.2.1/commands/START_SESSION",
        BACKEND_TOKEN,
        to=("NL", "CPO"),
        frm=EMSP_KEY,
        json=body,
    )
    assert response.json()["data"]["result"] == "ACCEPTED"
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    callback = seen[0]
    assert (callback["method"], callback["path"]) == ("POST", "/callbacks/42")
    assert callback["headers"]["authorization"] == authorization_header(BACKEND_TOKEN)
    assert callback["headers"]["x-correlation-id"] == "corr-1"
    assert callback["headers"]["x-request-id"] != "req-1"
    assert callback["headers"]["ocpi-to-party-id"] == "MSP"
    assert callback["body"] == b'{"result":"ACCEPTED"}'
