import asyncio
import time

import httpx
import pytest

from simulator import SimParty, samples

CPO_KEY = ("NL", "CPO")
EMSP_KEY = ("DE", "MSP")


@pytest.fixture
def connected(cpo, emsp):
    """CPO registered with the eMSP, so each holds the other's endpoints and a token."""
    asyncio.run(cpo.sim.register(emsp.versions_url, "token-a-for-emsp"))
    return cpo, emsp


def test_a_cpo_pushes_a_location_and_the_emsp_gets_it_back(connected):
    cpo, emsp = connected
    location = samples.location(*CPO_KEY, "LOC1")
    cpo.sim.seed(*CPO_KEY, "locations", location)
    pushed = asyncio.run(cpo.sim.client(*CPO_KEY).push_location(EMSP_KEY, location))
    assert pushed.status_code == 201
    assert emsp.sim.received_objects(EMSP_KEY, "locations")[(*CPO_KEY, "LOC1")] == location

    got = asyncio.run(emsp.sim.client(*EMSP_KEY).get_location(CPO_KEY, "LOC1"))
    assert got.json()["data"] == location
    assert got.headers["OCPI-from-country-code"] == "NL"
    assert got.headers["OCPI-to-party-id"] == "MSP"


def test_a_second_put_of_the_same_location_is_200(connected):
    cpo, _emsp = connected
    location = samples.location(*CPO_KEY, "LOC1")
    client = cpo.sim.client(*CPO_KEY)
    asyncio.run(client.push_location(EMSP_KEY, location))
    assert asyncio.run(client.push_location(EMSP_KEY, location)).status_code == 200


def test_an_evse_status_patch_changes_the_stored_evse_and_bumps_the_location(connected):
    cpo, emsp = connected
    client = cpo.sim.client(*CPO_KEY)
    asyncio.run(client.push_location(EMSP_KEY, samples.location(*CPO_KEY, "LOC1")))
    stamp = "2030-01-01T00:00:00Z"
    response = asyncio.run(client.patch_evse_status(EMSP_KEY, "LOC1", "EVSE1", "CHARGING", stamp))
    assert response.json()["status_code"] == 1000
    stored = emsp.sim.received_objects(EMSP_KEY, "locations")[(*CPO_KEY, "LOC1")]
    assert stored["evses"][0]["status"] == "CHARGING"
    assert stored["last_updated"] == stamp


def test_a_patch_without_last_updated_is_2001(connected):
    cpo, emsp = connected
    asyncio.run(cpo.sim.client(*CPO_KEY).push_location(EMSP_KEY, samples.location(*CPO_KEY)))
    token = cpo.sim.peer().token_we_send
    response = emsp.call(
        "PATCH",
        "/ocpi/emsp/2.2.1/locations/NL/CPO/LOC1/EVSE1",
        token,
        to=EMSP_KEY,
        frm=CPO_KEY,
        json={"status": "CHARGING"},
    )
    assert response.json()["status_code"] == 2001


def test_a_url_id_that_differs_from_the_body_is_2001(connected):
    cpo, emsp = connected
    token = cpo.sim.peer().token_we_send
    response = emsp.call(
        "PUT",
        "/ocpi/emsp/2.2.1/locations/NL/CPO/OTHER",
        token,
        to=EMSP_KEY,
        frm=CPO_KEY,
        json=samples.location(*CPO_KEY, "LOC1"),
    )
    assert response.json()["status_code"] == 2001


def test_the_emsp_crawls_all_locations_page_by_page(connected):
    cpo, emsp = connected
    for i in range(5):
        stamp = f"2024-01-01T10:00:0{i}Z"
        cpo.sim.seed(*CPO_KEY, "locations", samples.location(*CPO_KEY, f"L{i}", last_updated=stamp))
    client = emsp.sim.client(*EMSP_KEY)
    first = asyncio.run(client.request("locations", "SENDER", "GET", to=CPO_KEY))
    assert first.headers["X-Total-Count"] == "5"
    assert first.headers["X-Limit"] == "2"
    assert 'rel="next"' in first.headers["Link"]
    everything = asyncio.run(client.get_locations(CPO_KEY))
    assert [loc["id"] for loc in everything] == ["L0", "L1", "L2", "L3", "L4"]


def test_a_token_pushed_by_the_emsp_lands_at_the_cpo(connected):
    cpo, emsp = connected
    token = samples.token(*EMSP_KEY, "TOK1")
    response = asyncio.run(emsp.sim.client(*EMSP_KEY).push_token(CPO_KEY, token))
    assert response.status_code == 201
    assert cpo.sim.received_objects(CPO_KEY, "tokens")[(*EMSP_KEY, "TOK1", "RFID")] == token


def test_the_cpo_pulls_the_emsps_tokens(connected):
    cpo, emsp = connected
    emsp.sim.seed(*EMSP_KEY, "tokens", samples.token(*EMSP_KEY, "TOK1"))
    tokens = asyncio.run(cpo.sim.client(*CPO_KEY).get_tokens(EMSP_KEY))
    assert [t["uid"] for t in tokens] == ["TOK1"]


def test_authorize_allows_a_token_the_emsp_owns(connected):
    cpo, emsp = connected
    emsp.sim.seed(*EMSP_KEY, "tokens", samples.token(*EMSP_KEY, "TOK1"))
    response = asyncio.run(cpo.sim.client(*CPO_KEY).authorize(EMSP_KEY, "TOK1"))
    assert response.status_code == 200
    assert response.json()["data"]["allowed"] == "ALLOWED"
    assert response.json()["data"]["token"]["uid"] == "TOK1"


def test_authorize_of_an_unknown_token_is_404_with_2004(connected):
    cpo, _ = connected
    response = asyncio.run(cpo.sim.client(*CPO_KEY).authorize(EMSP_KEY, "NOPE"))
    assert response.status_code == 404
    assert response.json()["status_code"] == 2004
    assert "data" not in response.json()


def test_a_posted_cdr_can_be_fetched_from_its_location_header(connected):
    cpo, emsp = connected
    cdr = samples.cdr(*CPO_KEY, "CDR1", emsp=EMSP_KEY)
    client = cpo.sim.client(*CPO_KEY)
    response = asyncio.run(client.post_cdr(EMSP_KEY, cdr))
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.startswith(f"{emsp.url}/ocpi/emsp/2.2.1/cdrs/")
    fetched = asyncio.run(client.get_url(location, EMSP_KEY))
    assert fetched.json()["data"] == cdr


def test_a_start_session_gets_its_command_result_at_the_emsps_response_url(connected):
    _cpo, emsp = connected
    client = emsp.sim.client(*EMSP_KEY)
    command = asyncio.run(client.start_session(CPO_KEY, samples.token(*EMSP_KEY), "LOC1", "EVSE1"))
    assert command.data == {"result": "ACCEPTED", "timeout": 30}
    result = asyncio.run(command.result(timeout=5))
    assert result.body == {"result": "ACCEPTED"}
    headers = result.headers
    assert (headers["ocpi-from-country-code"], headers["ocpi-from-party-id"]) == CPO_KEY
    assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == EMSP_KEY
    request_headers = command.response.request.headers
    assert result.headers["x-correlation-id"] == request_headers["X-Correlation-ID"]
    assert result.headers["x-request-id"] != request_headers["X-Request-ID"]


def test_a_command_result_is_sent_with_the_token_for_the_peer_it_came_from(connected):
    cpo, emsp = connected
    command = asyncio.run(
        emsp.sim.client(*EMSP_KEY).start_session(CPO_KEY, samples.token(*EMSP_KEY), "LOC1")
    )
    asyncio.run(command.result())
    deadline = time.monotonic() + 5
    # the CPO records its callback only after the eMSP answered it
    while not cpo.sim.sent_callbacks and time.monotonic() < deadline:
        time.sleep(0.01)
    sent = cpo.sim.sent_callbacks[0]
    assert sent["http_status"] == 200
    assert sent["headers"]["Authorization"].startswith("Token ")


def test_a_start_session_on_an_unknown_location_is_rejected_with_2003(connected):
    cpo, emsp = connected
    cpo.sim.seed(*CPO_KEY, "locations", samples.location(*CPO_KEY, "LOC1"))
    command = asyncio.run(
        emsp.sim.client(*EMSP_KEY).start_session(CPO_KEY, samples.token(*EMSP_KEY), "ELSEWHERE")
    )
    assert command.response.json()["status_code"] == 2003
    assert command.data["result"] == "REJECTED"
    with pytest.raises(TimeoutError):
        asyncio.run(command.result(timeout=0.3))


def test_a_charging_profile_gets_its_result_asynchronously(connected):
    _cpo, emsp = connected
    client = emsp.sim.client(*EMSP_KEY)
    answer = asyncio.run(client.set_charging_profile(CPO_KEY, "SESSION1"))
    assert answer.data == {"result": "ACCEPTED", "timeout": 30}
    assert asyncio.run(answer.result()).body == {"result": "ACCEPTED"}
    active = asyncio.run(client.get_active_charging_profile(CPO_KEY, "SESSION1"))
    profile = asyncio.run(active.result()).body["profile"]
    assert profile["charging_profile"] == samples.charging_profile()
    cleared = asyncio.run(client.clear_charging_profile(CPO_KEY, "SESSION1"))
    assert asyncio.run(cleared.result()).body == {"result": "ACCEPTED"}


def test_a_request_to_a_party_the_platform_does_not_host_is_refused(connected):
    cpo, emsp = connected
    response = asyncio.run(
        cpo.sim.client(*CPO_KEY).push_location(("FR", "XYZ"), samples.location(*CPO_KEY))
    )
    assert response.status_code == 404
    assert response.json()["status_code"] == 2001
    assert "FR*XYZ" in response.json()["status_message"]
    assert emsp.sim.received_objects(EMSP_KEY, "locations") == {}


def test_a_request_without_routing_headers_is_2001(connected):
    cpo, emsp = connected
    response = emsp.call(
        "GET", "/ocpi/emsp/2.2.1/locations/NL/CPO/LOC1", cpo.sim.peer().token_we_send
    )
    assert response.json()["status_code"] == 2001


def test_invalid_json_is_http_400_with_2001(connected):
    cpo, emsp = connected
    response = emsp.call(
        "PUT",
        "/ocpi/emsp/2.2.1/locations/NL/CPO/LOC1",
        cpo.sim.peer().token_we_send,
        to=EMSP_KEY,
        frm=CPO_KEY,
        content=b'{"id": "LOC1",',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001


def test_responses_echo_request_ids_and_swap_routing_headers(connected):
    cpo, emsp = connected
    response = emsp.call(
        "GET",
        "/ocpi/emsp/2.2.1/locations/NL/CPO/NOPE",
        cpo.sim.peer().token_we_send,
        to=EMSP_KEY,
        frm=CPO_KEY,
    )
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "corr-1"
    assert response.headers["OCPI-to-country-code"] == "NL"
    assert response.headers["OCPI-from-party-id"] == "MSP"


def test_the_request_log_keeps_requests_without_authorization_and_can_be_cleared(connected):
    cpo, emsp = connected
    httpx.delete(f"{emsp.url}/_sim/log")
    asyncio.run(cpo.sim.client(*CPO_KEY).push_location(EMSP_KEY, samples.location(*CPO_KEY)))
    log = httpx.get(f"{emsp.url}/_sim/log").json()
    assert len(log) == 1
    assert log[0]["method"] == "PUT" and log[0]["path"] == "/ocpi/emsp/2.2.1/locations/NL/CPO/LOC1"
    assert log[0]["addressed_party"] == {"country_code": "DE", "party_id": "MSP"}
    assert "authorization" not in log[0]["headers"]
    assert '"LOC1"' in log[0]["body"]
    httpx.delete(f"{emsp.url}/_sim/log")
    assert httpx.get(f"{emsp.url}/_sim/log").json() == []


def test_objects_can_be_seeded_over_the_admin_api(cpo):
    location = samples.location(*CPO_KEY, "SEEDED")
    response = httpx.post(f"{cpo.url}/_sim/parties/NL/CPO/objects/locations", json=location)
    assert response.status_code == 201
    assert cpo.sim.owned_objects(CPO_KEY, "locations")[0]["id"] == "SEEDED"


def test_hubclientinfo_is_stored_and_read_back(connected):
    cpo, emsp = connected
    info = {
        "country_code": "FR",
        "party_id": "ABC",
        "role": "CPO",
        "status": "CONNECTED",
        "last_updated": "2024-01-01T00:00:00Z",
    }
    token = cpo.sim.peer().token_we_send
    put = emsp.call("PUT", "/ocpi/2.2.1/hubclientinfo/FR/ABC", token, json=info)
    assert put.status_code == 201
    got = emsp.call("GET", "/ocpi/2.2.1/hubclientinfo/fr/abc", token)
    assert got.json()["data"] == info
    assert "OCPI-from-country-code" not in got.headers


def test_a_dual_role_platform_serves_distinct_sender_and_receiver_urls(platform, emsp):
    dual = platform(SimParty("BE", "DUO", "CPO"), SimParty("BE", "DUO", "EMSP"), token_a="a")
    details = dual.call("GET", "/ocpi/2.2.1", "a").json()["data"]["endpoints"]
    urls = {(e["identifier"], e["role"]): e["url"] for e in details}
    assert urls[("locations", "SENDER")] == f"{dual.url}/ocpi/cpo/2.2.1/locations"
    assert urls[("locations", "RECEIVER")] == f"{dual.url}/ocpi/emsp/2.2.1/locations"
    assert urls[("tokens", "SENDER")] != urls[("tokens", "RECEIVER")]

    asyncio.run(emsp.sim.register(dual.versions_url, "a"))
    client = emsp.sim.client(*EMSP_KEY)
    dual.sim.seed("BE", "DUO", "locations", samples.location("BE", "DUO", "MINE"))
    assert [loc["id"] for loc in asyncio.run(client.get_locations(("BE", "DUO")))] == ["MINE"]
    pushed = asyncio.run(client.push_token(("BE", "DUO"), samples.token(*EMSP_KEY, "T9")))
    assert pushed.status_code == 201
    assert (*EMSP_KEY, "T9", "RFID") in dual.sim.received_objects(("BE", "DUO"), "tokens")
