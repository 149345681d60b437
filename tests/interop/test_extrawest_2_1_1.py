"""extrawest-ocpi as an OCPI 2.1.1 platform (its v_2_1_1 modules) through our hub: a 2.1.1 CPO
built on the library, connected by the hub in 2.1.1 with the role the invitation names, pushes a
location with the library's own push; the 2.2.1 library eMSP of the world gets it translated, and
the hub's ledger holds the translation's loss report (issue 17).

The library's versions endpoint reads every token as Base64, whatever version the caller speaks,
and answers OCPI 3000 to a token as 2.1.1 sends it (as it is); its 2.1.1 endpoints take tokens as
they are. The hub asks again in the other encoding where a GET of the handshake fails, and keeps
the one that worked (README, item 9).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.interop.conftest import ADMIN, World
from tests.interop.extrawest import LibraryPeer, start_library_peer
from tests.unit.translation.examples import LOCATION_211

pytestmark = pytest.mark.interop


def received_location(emsp: LibraryPeer, location_id: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        for entry in emsp.state()["received"]:
            if entry["module"] == "locations" and entry["id"] == location_id.lower():
                return dict(entry["data"])
        assert time.monotonic() < deadline, f"{location_id} never reached the eMSP"
        time.sleep(0.05)


def test_a_2_1_1_library_cpo_location_push_reaches_the_2_2_1_library_emsp_translated(
    world: World,
) -> None:
    cpo = start_library_peer("CPO", "NL", "EXO", ocpi_version="2.1.1")
    try:
        connected = httpx.post(
            f"{world.hub}/admin/connections",
            headers=ADMIN,
            json={"versions_url": cpo.versions_url, "token_a": cpo.token_a(),
                  "label": "2.1.1 CPO", "ocpi_version": "2.1.1", "role": "CPO"},
            timeout=30,
        )  # fmt: skip
        assert connected.status_code == 201, connected.text
        assert connected.json()["version"] == "2.1.1"
        cpo.seed("locations", "LOC211", {**LOCATION_211, "id": "LOC211"})

        pushed = cpo.push("locations", "LOC211", f"{world.hub}/ocpi/2.1.1", version="2.1.1")

        assert pushed.answer["response"]["status_code"] == 1000, pushed
        put = pushed.sent[-1]
        assert put["method"] == "PUT" and json.loads(put["body"])["type"] == "ON_STREET"
        assert put["headers"]["authorization"] == f"Token {cpo.hub_token()}"  # not Base64
        location = received_location(world.emsp, "LOC211")
        assert (location["country_code"].upper(), location["party_id"].upper()) == ("NL", "EXO")
        assert location["publish"] is True and location["parking_type"] == "ON_STREET"
        assert location["evses"][0]["connectors"][0]["max_voltage"] == 230

        (message,) = world._find(connection=connected.json()["id"], module="locations")
        timeline = world.admin("GET", f"/messages/{message['id']}").json()["data"]
        legs = {leg["target_party"]: leg for leg in timeline["legs"]}
        translation = legs[world.emsp.party]["translation"]
        assert (translation["source_version"], translation["target_version"]) == (
            "2.1.1", "2.2.1",
        )  # fmt: skip
        assert {"path": "publish", "kind": "defaulted", "source_value": None,
                "target_value": True} in translation["losses"]  # fmt: skip
    finally:
        cpo.stop()
