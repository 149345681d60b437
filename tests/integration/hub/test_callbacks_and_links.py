"""URLs the hub stands in for: response_url callbacks, pagination Links, CDR Locations."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from domain.values import Role
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest

# A receiver's next page, with a non-standard cursor the hub must keep.
NEXT_QUERY = "date_from=2024-01-01T00:00:00Z&offset=1&limit=1&cursor=a"


def test_a_command_result_comes_back_through_the_rewritten_response_url(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO)
    intruder = hub.connect(Role.CPO)
    cpo.platform.on("POST", "/", Reply(200, envelope({"result": "ACCEPTED", "timeout": 30})))
    original = f"{emsp.platform.url}/ocpi/emsp/commands/START_SESSION/42"
    command = {"response_url": original, "location_id": "LOC1", "token": {"uid": "U1"}}

    answer = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command,
        request_id="cmd-1",
    )  # fmt: skip

    assert answer.json()["data"]["result"] == "ACCEPTED"
    callback = json.loads(cpo.platform.wait_for(1)[0].body)["response_url"]
    assert callback.startswith(f"{hub.url}/ocpi/2.2.1/commands/sender/callbacks/")
    result = {"result": "ACCEPTED"}

    stolen = intruder.call("POST", "commands", "sender", to=emsp.party, body=result, url=callback)
    assert stolen.status_code == 404 and stolen.json()["status_code"] == 2001

    relayed = cpo.call(
        "POST", "commands", "sender", to=emsp.party, body=result, url=callback,
        request_id="cb-1",
    )  # fmt: skip

    assert relayed.status_code == 200 and relayed.json()["status_code"] == 1000
    delivered = emsp.platform.wait_for(1)[0]
    assert f"{emsp.platform.url}{delivered.path}" == original
    assert delivered.body == json.dumps(result).encode()
    assert delivered.headers["authorization"] == emsp.expected_authorization()
    assert delivered.headers["ocpi-from-party-id"] == cpo.party.party_id
    assert delivered.headers["ocpi-to-party-id"] == emsp.party.party_id
    assert emsp.platform.requests == [delivered]
    routed = hub.events(cpo, "cb-1")[1]
    assert routed.classification == "DIRECT" and "callback" in routed.reason
    assert hub.event_names(cpo, "cb-1")[-2:] == ["Answered", "Responded"]

    unknown = cpo.call("POST", "commands", "sender", to=emsp.party, body=result, url=callback + "x")
    assert unknown.status_code == 404


def test_a_charging_profile_result_follows_the_rewritten_query_response_url(
    hub: HubUnderTest,
) -> None:
    scsp = hub.connect(Role.SCSP)
    cpo = hub.connect(Role.CPO)
    original = f"{scsp.platform.url}/ocpi/scsp/results/7?x=1"
    query = "?duration=600&response_url=" + original.replace(":", "%3A").replace("/", "%2F")
    query = query.replace("?x", "%3Fx").replace("=1", "%3D1")

    scsp.call("GET", "chargingprofiles", "receiver", "/S1" + query, to=cpo.party)

    forwarded = cpo.platform.wait_for(1)[0]
    callback = parse_qs(forwarded.query)["response_url"][0]
    assert parse_qs(forwarded.query)["duration"] == ["600"]
    result = {"result": "ACCEPTED", "profile": {"start_date_time": "2024-01-01T00:00:00Z"}}
    relayed = cpo.call(
        "POST", "chargingprofiles", "sender", to=scsp.party, body=result, url=callback
    )
    assert relayed.status_code == 200
    delivered = scsp.platform.wait_for(1)[0]
    assert f"{scsp.platform.url}{delivered.path}?{delivered.query}" == original


def test_a_paginated_get_link_is_followed_through_the_hub(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO)
    upstream = cpo.platform.endpoint("cdrs", "sender")
    cpo.platform.on(
        "GET",
        "/",
        lambda recorded: Reply(
            200,
            envelope([{"id": f"CDR-{recorded.query}"}]),
            {
                "link": f'<{upstream}?{NEXT_QUERY}>; rel="next"',
                "x-total-count": "2",
                "x-limit": "1",
            }
            if "offset=1" not in recorded.query
            else {"x-total-count": "2", "x-limit": "1"},
        ),
    )

    first = emsp.call(
        "GET", "cdrs", "sender", "?date_from=2024-01-01T00:00:00Z&limit=1", to=cpo.party
    )

    assert first.headers["x-total-count"] == "2" and first.headers["x-limit"] == "1"
    link = first.headers["link"]
    hub_next = (
        f"{hub.url}/ocpi/2.2.1/cdrs/sender?date_from=2024-01-01T00:00:00Z&offset=1&limit=1&cursor=a"
    )
    assert link == f'<{hub_next}>; rel="next"'
    second = emsp.call("GET", "cdrs", "sender", to=cpo.party, url=hub_next)
    assert second.status_code == 200 and "link" not in second.headers
    requests = cpo.platform.wait_for(2)
    assert requests[1].query == NEXT_QUERY


def test_a_cdr_location_is_rewritten_and_followed_to_the_emsp(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP)
    other_cpo = hub.connect(Role.CPO)
    stored_at = f"{emsp.platform.url}/ocpi/emsp/cdrs/store/CDR-1"
    emsp.platform.on("POST", "/", Reply(201, envelope(), {"location": stored_at}))
    cdr = {"id": "CDR-1", "cdr_token": {"country_code": "NL", "party_id": emsp.party.party_id}}

    posted = cpo.call("POST", "cdrs", "receiver", to=emsp.party, body=cdr)

    assert posted.status_code == 201
    location = posted.headers["location"]
    assert location.startswith(f"{hub.url}/ocpi/2.2.1/cdrs/receiver/")
    emsp.platform.on("GET", "/ocpi/emsp/cdrs/store", Reply(200, envelope(cdr)))
    fetched = cpo.call("GET", "cdrs", "receiver", to=emsp.party, url=location, request_id="cdr-g")
    assert fetched.json()["data"] == cdr
    follow = emsp.platform.wait_for(2)[1]
    assert f"{emsp.platform.url}{follow.path}" == stored_at
    assert hub.events(cpo, "cdr-g")[2].url == stored_at

    foreign = other_cpo.call("GET", "cdrs", "receiver", to=emsp.party, url=location)
    assert foreign.status_code == 404
