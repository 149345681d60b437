"""extrawest-ocpi platforms with the library's TRAILING_SLASH setting off, through our hub.

They then advertise slash-less endpoint URLs (`.../cpo/2.2.1/locations`) while the library's routes
keep the slash, so each advertised bare endpoint URL answers 307 to itself plus a slash (README,
item 7): "advertises URLs it does not serve". Issue 12: a 307/308 to the same origin that only adds
or removes a trailing slash is followed once and recorded, at registration too; today the hub fails
the registration, and relays the 307 itself to the requester, recorded as a success.
"""

from __future__ import annotations

import httpx
import pytest

from tests.interop import objects
from tests.interop.conftest import ADMIN, World
from tests.interop.extrawest import start_library_peer

pytestmark = pytest.mark.interop


def test_the_hub_connects_to_a_library_cpo_whose_credentials_url_redirects(
    slashless_world: World,
) -> None:
    peer = start_library_peer("CPO", "NL", "EXR", trailing_slash=False)
    try:
        answer = httpx.post(
            f"{slashless_world.hub}/admin/connections",
            headers=ADMIN,
            json={"versions_url": peer.versions_url, "token_a": peer.token_a()},
            timeout=30,
        )

        posts = [
            (w["url"].rsplit("/ocpi/", 1)[1], w["status"])
            for w in peer.wire()
            if w["direction"] == "received" and w["method"] == "POST"
        ]
        assert posts[0] == ("cpo/2.2.1/credentials", 307)
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "CONNECTED"
        assert posts == [("cpo/2.2.1/credentials", 307), ("cpo/2.2.1/credentials/", 200)]
    finally:
        peer.stop()


def test_a_get_of_one_location_reaches_the_slashless_cpo_without_a_redirect(
    slashless_world: World,
) -> None:
    """Only the bare endpoint URL redirects: .../locations/{id} is served as it is built."""
    world = slashless_world
    world.cpo.seed("locations", "ONE1", objects.location("NL", "EXS", "ONE1"))

    one = world.get_locations("/ONE1", "one-1")

    assert one.status_code == 200 and one.json()["status_code"] == 1000
    world.assert_complete(world.by_request_id(world.emsp, "one-1"))


def test_an_emsp_gets_the_location_list_of_a_cpo_whose_advertised_url_redirects(
    slashless_world: World,
) -> None:
    world = slashless_world
    world.cpo.seed("locations", "LIST1", objects.location("NL", "EXS", "LIST1"))

    listed = world.get_locations("", "list-1")

    # Today: 307 with the CPO's own address in Location, handed to the eMSP.
    assert listed.status_code == 200, (listed.status_code, listed.headers.get("location"))
    assert listed.json()["status_code"] == 1000
    assert "list1" in [location["id"] for location in listed.json()["data"]]
    world.assert_complete(world.by_request_id(world.emsp, "list-1"))


def test_a_cdr_reaches_an_emsp_whose_advertised_cdrs_url_redirects(
    slashless_world: World,
) -> None:
    world = slashless_world
    token = objects.token("DE", "EXT", "TR1")
    world.cpo.seed("cdrs", "RED1", objects.cdr("NL", "EXS", "RED1", token, "LIST1"))

    answer = world.cpo.push("cdrs", "RED1", world.hub_details_url).answer

    # Today: the eMSP answers 307, the hub hands the CPO a 307 (with its own Location) and records
    # a success; the CDR is never delivered.
    assert answer["status_code"] == 200, answer
    assert [r for r in world.emsp.state()["received"] if r["id"] == "red1"]
    world.assert_complete(world.the_message(world.cpo, "cdrs", "POST", "RED1"))
