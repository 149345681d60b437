import asyncio

import httpx

from simulator.auth import authorization_header


def test_two_platforms_register_and_hold_each_others_tokens(cpo, emsp):
    peer = asyncio.run(emsp.sim.register(cpo.versions_url, "token-a-for-cpo"))
    their_view = cpo.sim.peer()
    assert peer.id == "NL*CPO" and their_view.id == "DE*MSP"
    # eMSP sends C (issued by the CPO platform); CPO sends B (issued by the eMSP platform)
    assert peer.token_we_send == their_view.token_we_accept
    assert their_view.token_we_send == peer.token_we_accept
    assert peer.endpoints[("locations", "SENDER")] == f"{cpo.url}/ocpi/cpo/2.2.1/locations"
    emsp_locations = f"{emsp.url}/ocpi/emsp/2.2.1/locations"
    assert their_view.endpoints[("locations", "RECEIVER")] == emsp_locations


def test_token_a_dies_after_registration(cpo, emsp):
    asyncio.run(emsp.sim.register(cpo.versions_url, "token-a-for-cpo"))
    response = cpo.call("GET", "/ocpi/versions", "token-a-for-cpo")
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


def test_registering_again_with_token_c_is_405(cpo, emsp):
    peer = asyncio.run(emsp.sim.register(cpo.versions_url, "token-a-for-cpo"))
    body = {"token": "another", "url": emsp.versions_url, "roles": emsp.sim.credentials_roles()}
    response = cpo.call("POST", "/ocpi/2.2.1/credentials", peer.token_we_send, json=body)
    assert response.status_code == 405


def test_get_credentials_returns_ours_with_the_callers_token(cpo, emsp):
    peer = asyncio.run(emsp.sim.register(cpo.versions_url, "token-a-for-cpo"))
    data = cpo.call("GET", "/ocpi/2.2.1/credentials", peer.token_we_send).json()["data"]
    assert data["token"] == peer.token_we_send
    assert data["url"] == cpo.versions_url
    assert data["roles"][0]["role"] == "CPO"


def test_put_and_delete_need_a_registration_first(cpo):
    body = {"token": "x", "url": "http://127.0.0.1:9/ocpi/versions", "roles": []}
    response = cpo.call("PUT", "/ocpi/2.2.1/credentials", "token-a-for-cpo", json=body)
    assert response.status_code == 405
    assert cpo.call("DELETE", "/ocpi/2.2.1/credentials", "token-a-for-cpo").status_code == 405


def test_put_rotates_tokens_and_delete_unregisters(cpo, emsp):
    peer = asyncio.run(emsp.sim.register(cpo.versions_url, "token-a-for-cpo"))
    new_b = "rotated-token-b"
    emsp.sim.peers[peer.id].token_we_accept = new_b
    body = {"token": new_b, "url": emsp.versions_url, "roles": emsp.sim.credentials_roles()}
    response = cpo.call("PUT", "/ocpi/2.2.1/credentials", peer.token_we_send, json=body)
    new_c = response.json()["data"]["token"]
    assert new_c != peer.token_we_send
    assert cpo.sim.peer().token_we_send == new_b
    assert cpo.call("GET", "/ocpi/2.2.1", peer.token_we_send).status_code == 401
    assert cpo.call("DELETE", "/ocpi/2.2.1/credentials", new_c).status_code == 200
    assert cpo.sim.peers == {}
    assert cpo.call("GET", "/ocpi/2.2.1", new_c).status_code == 401


def test_a_registration_whose_versions_cannot_be_read_is_3001(cpo):
    body = {
        "token": "b",
        "url": "http://127.0.0.1:9/ocpi/versions",
        "roles": [
            {
                "role": "EMSP",
                "party_id": "MSP",
                "country_code": "DE",
                "business_details": {"name": "x"},
            }
        ],
    }
    response = cpo.call("POST", "/ocpi/2.2.1/credentials", "token-a-for-cpo", json=body)
    assert response.json()["status_code"] == 3001


def test_token_a_does_not_open_functional_modules(cpo):
    response = cpo.call("GET", "/ocpi/cpo/2.2.1/locations", "token-a-for-cpo", to=("NL", "CPO"))
    assert response.status_code == 401


def test_a_missing_authorization_header_is_401_with_an_envelope(cpo):
    response = httpx.get(f"{cpo.url}/ocpi/versions", headers={"X-Request-ID": "r9"})
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000
    assert response.headers["X-Request-ID"] == "r9"


def test_version_details_list_credentials_and_hubclientinfo_in_platform_mode(cpo):
    data = cpo.call("GET", "/ocpi/2.2.1", "token-a-for-cpo").json()["data"]
    pairs = {(e["identifier"], e["role"]) for e in data["endpoints"]}
    assert ("credentials", "SENDER") in pairs
    assert ("hubclientinfo", "RECEIVER") in pairs
    assert ("commands", "RECEIVER") in pairs and ("tokens", "RECEIVER") in pairs


def test_versions_accepts_a_raw_token_too(cpo):
    response = httpx.get(
        f"{cpo.url}/ocpi/versions", headers={"Authorization": "Token token-a-for-cpo"}
    )
    assert response.json()["data"] == [{"version": "2.2.1", "url": f"{cpo.url}/ocpi/2.2.1"}]


def test_the_handshake_can_be_started_over_the_admin_api(cpo, emsp):
    response = httpx.post(
        f"{emsp.url}/_sim/register",
        json={"versions_url": cpo.versions_url, "token_a": "token-a-for-cpo"},
    )
    assert response.json() == {"id": "NL*CPO"}
    peers = httpx.get(f"{cpo.url}/_sim/peers").json()
    assert peers[0]["id"] == "DE*MSP"
    assert authorization_header(peers[0]["token_we_send"])
