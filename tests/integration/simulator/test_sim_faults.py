import asyncio
import time

import httpx
import pytest

from simulator import samples

CPO_KEY = ("NL", "CPO")
EMSP_KEY = ("DE", "MSP")
LOCATIONS = "/ocpi/emsp/2.2.1/locations"


@pytest.fixture
def connected(cpo, emsp):
    asyncio.run(cpo.sim.register(emsp.versions_url, "token-a-for-emsp"))
    return cpo, emsp


def _inject(platform, **fault) -> None:
    response = httpx.post(f"{platform.url}/_sim/faults", json={"path_prefix": LOCATIONS, **fault})
    assert response.status_code == 201


def _push(cpo, timeout: float = 5.0) -> httpx.Response:
    client = cpo.sim.client(*CPO_KEY, timeout=timeout)
    return asyncio.run(client.push_location(EMSP_KEY, samples.location(*CPO_KEY)))


def test_a_status_fault_answers_that_http_status_with_an_ocpi_3000_body(connected):
    cpo, emsp = connected
    _inject(emsp, mode="status", status=503)
    response = _push(cpo)
    assert response.status_code == 503
    assert response.json()["status_code"] == 3000
    assert response.headers["X-Request-ID"] == response.request.headers["X-Request-ID"]


def test_a_truncated_fault_returns_half_a_json_document(connected):
    cpo, emsp = connected
    _inject(emsp, mode="truncated")
    response = _push(cpo)
    assert response.status_code == 200
    assert response.text.startswith("{")
    with pytest.raises(ValueError):
        response.json()


def test_an_html_fault_returns_a_502_error_page(connected):
    cpo, emsp = connected
    _inject(emsp, mode="html")
    response = _push(cpo)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text


def test_a_huge_fault_returns_a_valid_envelope_with_that_much_data(connected):
    cpo, emsp = connected
    _inject(emsp, mode="huge", size=2_000_000)
    response = _push(cpo)
    assert response.json()["status_code"] == 1000
    assert len(response.json()["data"]) == 2_000_000


def test_a_slow_fault_delays_but_still_answers(connected):
    cpo, emsp = connected
    _inject(emsp, mode="slow", delay_ms=300)
    started = time.monotonic()
    response = _push(cpo)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201


def test_a_hang_fault_never_answers_until_cleared(connected):
    cpo, emsp = connected
    _inject(emsp, mode="hang")
    with pytest.raises(httpx.ReadTimeout):
        _push(cpo, timeout=0.5)
    assert httpx.delete(f"{emsp.url}/_sim/faults").status_code == 204
    assert _push(cpo).status_code in (200, 201)


def test_a_fault_only_hits_paths_under_its_prefix(connected):
    cpo, emsp = connected
    _inject(emsp, mode="status", status=500)
    token = cpo.sim.peer().token_we_send
    assert emsp.call("GET", "/ocpi/versions", token).status_code == 200


def test_faulted_requests_are_still_logged(connected):
    cpo, emsp = connected
    httpx.delete(f"{emsp.url}/_sim/log")
    _inject(emsp, mode="html")
    _push(cpo)
    assert [e["path"] for e in httpx.get(f"{emsp.url}/_sim/log").json()] == [
        f"{LOCATIONS}/NL/CPO/LOC1"
    ]


def test_an_unknown_fault_mode_is_refused(emsp):
    response = httpx.post(f"{emsp.url}/_sim/faults", json={"path_prefix": "/", "mode": "explode"})
    assert response.status_code == 400
