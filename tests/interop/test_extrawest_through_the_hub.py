"""extrawest-ocpi platforms (a CPO and an eMSP, each its own process) talk through our hub.

The library's own code sends the pushes (its /push endpoint), the command results and the
registration answers; the GETs, the command an eMSP sends and the eMSP's registration by our
invitation are sent by the test or the runner, because the library has no client for them
(README.md). Pushes arrive without routing headers or request ids, joined to the endpoint without
a slash: the hub routes them (leniency, README "Sloppy peers") and records what it decided.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.interop import objects
from tests.interop.conftest import World, routed_headers
from tests.interop.extrawest import LibraryPeer
from tests.support.servers import wait_for

pytestmark = pytest.mark.interop


def received_objects(peer: LibraryPeer, module: str, object_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in peer.state()["received"]
        if r["module"] == module and r["id"] == object_id.lower()
    ]


def send_start_session(world: World, location_id: str, uid: str) -> httpx.Response:
    """An eMSP on the library sends START_SESSION itself (the library has no client for it),
    naming as response_url the results endpoint the library serves: .../commands/{uid}."""
    world.cpo.seed("locations", location_id, objects.location("NL", "EXC", location_id))
    token = objects.token("DE", "EXE", f"T{uid}")
    response_url = f"{world.emsp.url}/ocpi/emsp/2.2.1/commands/{uid}"
    return httpx.post(
        world.hub_endpoint("commands", "RECEIVER") + "/START_SESSION",
        json=objects.start_session(response_url, token, location_id),
        headers=routed_headers(world.emsp, world.cpo, f"cmd-{uid}"),
        timeout=30,
    )


def command_result_sent_by_the_cpo(world: World, location_id: str) -> dict[str, Any]:
    """The library's POST of the CommandResult, to the hub's response_url for this command."""
    (command,) = [
        json.loads(w["body"])
        for w in world.cpo.wire()
        if w["direction"] == "received" and "/commands/START_SESSION" in w["url"]
        and json.loads(w["body"])["location_id"].lower() == location_id.lower()
    ]  # fmt: skip

    def answered_post() -> dict[str, Any] | None:
        posts = [
            w
            for w in world.cpo.wire()
            if w["direction"] == "sent" and w["url"] == command["response_url"] and "status" in w
        ]
        return posts[0] if posts else None

    return dict(wait_for(answered_post, 5, "the library's command result"))


# --- registration and GETs ------------------------------------------------------------------


def test_one_library_platform_connects_by_its_token_a_and_the_other_by_the_hubs_invitation(
    world: World,
) -> None:
    for peer in (world.cpo, world.emsp):
        connection = world.admin("GET", f"/connections/{world.connections[peer.party]}").json()
        assert connection["status"] == "CONNECTED" and connection["registered"]
        assert [(p["country_code"], p["party_id"], p["role"]) for p in connection["parties"]] == [
            (peer.country_code, peer.party_id, peer.role)
        ]
        # The platform fetched our versions and details with the token we gave it, and kept them.
        hub = peer.state()["hub"]
        assert hub["credentials"]["url"] == f"{world.hub}/ocpi/versions"
        assert {e["identifier"] for e in hub["endpoints"]["endpoints"]} >= {"locations", "cdrs"}


def test_an_emsp_gets_the_cpos_locations_through_the_hub_and_each_get_is_recorded_complete(
    world: World,
) -> None:
    world.cpo.seed("locations", "GET1", objects.location("NL", "EXC", "GET1"))

    listed = world.get_locations("", "get-list")
    one = world.get_locations("/GET1", "get-one")

    assert listed.status_code == 200 and listed.json()["status_code"] == 1000
    assert "get1" in [location["id"] for location in listed.json()["data"]]
    assert one.status_code == 200 and one.json()["status_code"] == 1000
    for request_id in ("get-list", "get-one"):
        world.assert_complete(world.by_request_id(world.emsp, request_id))


# --- what the library sends, as it sends it (the evidence in README.md) -----------------------


@pytest.mark.parametrize(
    ("module", "object_id", "seed"),
    [
        ("locations", "WIRE1", lambda: objects.location("NL", "EXC", "WIRE1")),
        ("sessions", "WIRE2", lambda: objects.session(
            "NL", "EXC", "WIRE2", objects.token("DE", "EXE", "TW2"), "WIRE1")),
    ],
    ids=["locations", "sessions"],
)  # fmt: skip
def test_the_cpo_library_pushes_to_the_endpoint_url_and_ids_concatenated_without_headers(
    world: World, module: str, object_id: str, seed: Callable[[], dict[str, Any]]
) -> None:
    world.cpo.seed(module, object_id, seed())

    details, put = world.cpo.push(module, object_id, world.hub_details_url).sent

    assert (details["method"], details["url"]) == ("GET", world.hub_details_url)
    assert put["method"] == "PUT"
    receiver = world.hub_endpoint(module, "RECEIVER")
    assert not receiver.endswith("/")
    assert put["url"] == f"{receiver}NL/EXC/{object_id}"  # no slash between the two
    for request in (details, put):
        assert request["headers"]["authorization"].startswith("Token ")
        assert not {"x-request-id", "x-correlation-id"} & set(request["headers"])
        assert not [h for h in request["headers"] if h.startswith("ocpi-")]


def test_the_emsp_library_pushes_a_token_the_same_way_and_without_its_type(world: World) -> None:
    world.emsp.seed("tokens", "WIRE3", objects.token("DE", "EXE", "WIRE3"))

    _details, put = world.emsp.push("tokens", "WIRE3", world.hub_details_url).sent

    # Concatenated like the CPO's pushes, and without the ?type= a token PUT names (default RFID).
    assert put["url"] == f"{world.hub_endpoint('tokens', 'RECEIVER')}DE/EXE/WIRE3"
    assert not [h for h in put["headers"] if h.startswith(("ocpi-", "x-"))]


def test_the_cpo_library_posts_a_cdr_to_the_bare_endpoint_url_without_headers(
    world: World,
) -> None:
    token = objects.token("DE", "EXE", "TW4")
    world.cpo.seed("cdrs", "WIRE4", objects.cdr("NL", "EXC", "WIRE4", token, "WIRE1"))

    _details, post = world.cpo.push("cdrs", "WIRE4", world.hub_details_url).sent

    assert post["method"] == "POST"
    assert post["url"] == world.hub_endpoint("cdrs", "RECEIVER")
    assert not [h for h in post["headers"] if h.startswith(("ocpi-", "x-"))]
    # The library lower-cases every CiString it serialises: ids and the party's own codes.
    assert '"country_code": "nl"' in post["body"] and '"party_id": "exc"' in post["body"]


def test_the_cpo_library_posts_a_command_result_with_nothing_but_its_token(world: World) -> None:
    assert send_start_session(world, "WIRE5", "wire5").json()["status_code"] == 1000

    result = command_result_sent_by_the_cpo(world, "WIRE5")

    assert result["url"].startswith(world.hub)  # the hub's response_url, as given
    assert set(result["headers"]) & {"authorization"} == {"authorization"}
    assert not [h for h in result["headers"] if h.startswith(("ocpi-", "x-"))]


def test_the_library_redirects_an_endpoint_url_without_its_trailing_slash(world: World) -> None:
    """It advertises .../locations/ and answers .../locations with a 307 to the slashed URL."""
    token = world.cpo.state()["operator_authorization"]
    advertised = f"{world.cpo.url}/ocpi/cpo/2.2.1/locations/"

    answer = httpx.get(advertised.rstrip("/"), headers={"Authorization": token})

    assert answer.status_code == 307
    assert answer.headers["location"] == advertised


# --- the exchanges through the hub, with the ledger ------------------------------------------


def test_a_start_session_from_the_emsp_reaches_the_cpo_library_and_is_recorded_complete(
    world: World,
) -> None:
    answer = send_start_session(world, "CMD1", "cmd1")

    assert answer.status_code == 200
    assert answer.json()["status_code"] == 1000
    assert answer.json()["data"][0]["result"] == "ACCEPTED"
    world.assert_complete(world.by_request_id(world.emsp, "cmd-cmd1"))


def test_the_cpo_librarys_command_result_reaches_the_emsp_library_with_1000(
    world: World,
) -> None:
    assert send_start_session(world, "CMD2", "cmd2").json()["status_code"] == 1000

    result = command_result_sent_by_the_cpo(world, "CMD2")

    results = wait_for(lambda: world.emsp.state()["command_results"], 5, "the result")
    assert results.get("cmd2") == {"result": "ACCEPTED", "message": []}
    assert result["status"] == 200
    callback = "/" + result["url"].split("/commands/sender/", 1)[1]

    def recorded() -> list[dict[str, Any]]:
        return [m for m in world.messages(world.cpo, "commands") if m["path"] == callback]

    world.assert_complete(world.settled(recorded))


def pushed(*args: Any) -> Any:
    return pytest.param(*args, id=args[2])


@pytest.mark.parametrize(
    ("sender", "receiver", "module", "object_id", "seed"),
    [
        pushed("cpo", "emsp", "locations", "PUSH1",
               lambda: objects.location("NL", "EXC", "PUSH1")),
        pushed("emsp", "cpo", "tokens", "TOK1",
               lambda: objects.token("DE", "EXE", "TOK1")),
        pushed("cpo", "emsp", "sessions", "SES1",
               lambda: objects.session("NL", "EXC", "SES1", objects.token("DE", "EXE", "TS1"),
                                       "PUSH1")),
    ],
)  # fmt: skip
def test_an_object_the_library_pushes_reaches_the_other_library_with_1000_and_a_complete_record(
    world: World,
    sender: str,
    receiver: str,
    module: str,
    object_id: str,
    seed: Callable[[], dict[str, Any]],
) -> None:
    source, target = getattr(world, sender), getattr(world, receiver)
    source.seed(module, object_id, seed())

    answer = source.push(module, object_id, world.hub_details_url).answer

    assert (answer["status_code"], answer["response"]["status_code"]) == (200, 1000), answer
    assert received_objects(target, module, object_id)
    world.assert_complete(world.the_message(source, module, "PUT", object_id))


def test_a_cdr_the_cpo_library_posts_reaches_the_emsp_library_with_a_complete_record(
    world: World,
) -> None:
    token = objects.token("DE", "EXE", "TC1")
    world.cpo.seed("cdrs", "CDR1", objects.cdr("NL", "EXC", "CDR1", token, "PUSH1"))

    answer = world.cpo.push("cdrs", "CDR1", world.hub_details_url).answer

    # The library keeps only the status and headers of a CDR answer.
    assert received_objects(world.emsp, "cdrs", "CDR1")
    assert answer["status_code"] == 200, answer
    # The eMSP library's own Location (https, enum reprs) is not relayed: the hub names its own.
    assert answer["response"]["location"].startswith(world.hub_endpoint("cdrs", "RECEIVER") + "/")
    world.assert_complete(world.the_message(world.cpo, "cdrs", "POST", "CDR1"))
