"""What real platform software sends (see tests/interop/README.md), on both stores: no routing
headers, no request ids, endpoint and ids joined without '/', redirects. A lenient connection (the
default) gets it routed, each decision on record; a strict one gets a clear 2001; every refusal,
even of a request that names no endpoint at all, is in the ledger."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from domain.connections import Leniency
from domain.values import OCPI_VERSION, Role
from tests.support.fake_platform import Reply
from tests.support.hub import HubUnderTest, Peer
from tests.support.servers import wait_for

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}


def bare(peer: Peer, method: str, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A request as a sloppy library sends it: its token, a JSON body, nothing else."""
    headers = {"authorization": "Token " + base64.b64encode(peer.token.encode()).decode()}
    return peer.hub.client.request(method, url, headers=headers, json=body)


def endpoint(hub: HubUnderTest, module: str, interface: str) -> str:
    return f"{hub.url}/ocpi/{OCPI_VERSION}/{module}/{interface}"


def make_strict(hub: HubUnderTest, peer: Peer) -> None:
    position = hub.node.registry.set_leniency(peer.connection_id, Leniency.STRICT, "test")
    hub.node.wait_for_registry(position)


def ledger_of(hub: HubUnderTest, peer: Peer, answer: httpx.Response) -> list[Any]:
    return hub.wait_for_events(
        peer, answer.headers["x-request-id"], lambda names: names[-1:] == ["Responded"]
    )


def location(cpo: Peer) -> dict[str, Any]:
    party = cpo.party
    return {"country_code": party.country_code, "party_id": party.party_id, "id": "LOC1"}


def test_a_header_less_slash_less_location_push_is_broadcast_and_every_decision_recorded(
    hub: HubUnderTest,
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    party = cpo.party
    url = f"{endpoint(hub, 'locations', 'receiver')}{party.country_code}/{party.party_id}/LOC1"

    answer = bare(cpo, "PUT", url, location(cpo))

    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    (delivered,) = emsp.platform.wait_for(1)
    assert delivered.path.endswith(
        f"/locations/receiver/{party.country_code}/{party.party_id}/LOC1"
    )
    assert delivered.headers["ocpi-to-party-id"] == emsp.party.party_id
    assert delivered.headers["ocpi-from-party-id"] == "HUB"
    events = hub.wait_for_events(
        cpo, answer.headers["x-request-id"], lambda names: "Answered" in names
    )
    received, routed = events[0], events[1]
    assert received.sender_inferred is True and received.from_party == str(party)
    assert received.path == f"{party.country_code}/{party.party_id}/LOC1"  # as it came
    assert any("joined without '/'" in note for note in received.adjustments)
    assert any("X-Request-ID and X-Correlation-ID generated" in n for n in received.adjustments)
    assert routed.classification == "BROADCAST" and "no OCPI-to" in routed.reason


def test_the_same_push_from_a_strict_connection_is_refused_with_2001_on_record(
    hub: HubUnderTest,
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    make_strict(hub, cpo)
    party = cpo.party
    joined = f"{endpoint(hub, 'locations', 'receiver')}{party.country_code}/{party.party_id}/L1"
    slashed = f"{endpoint(hub, 'locations', 'receiver')}/{party.country_code}/{party.party_id}/L1"
    with_ids = {"x-request-id": "strict-1", "x-correlation-id": "strict-c1"}

    no_ids = bare(cpo, "PUT", slashed, location(cpo))
    no_slash = cpo.call("PUT", "locations", "receiver", url=joined, body=location(cpo))
    no_to = cpo.call(
        "PUT", "locations", "receiver", url=slashed, body=location(cpo), headers=with_ids
    )

    for answer, fragment in (
        (no_ids, "X-Request-ID and X-Correlation-ID required"),
        (no_slash, "must start with '/'"),
        (no_to, "OCPI-to-country-code and OCPI-to-party-id are required"),
    ):
        assert answer.status_code < 500 and answer.json()["status_code"] == 2001, answer.text
        assert fragment in answer.json()["status_message"] and "strict" in answer.text
        names = [type(e).__name__ for e in ledger_of(hub, cpo, answer)]
        assert names == ["Received", "Refused", "Responded"]
    assert emsp.platform.requests == []


def test_header_less_session_and_cdr_pushes_reach_the_emsp_named_in_their_token(
    hub: HubUnderTest,
) -> None:
    cpo, emsp = hub.connect(Role.CPO), hub.connect(Role.EMSP)
    mine, theirs = cpo.party, emsp.party
    cdr_token = {"country_code": theirs.country_code, "party_id": theirs.party_id, "uid": "U1"}
    session = {"id": "S1", "cdr_token": cdr_token}
    cdr_location = f"{emsp.platform.endpoint('cdrs', 'receiver')}/C1"
    emsp.platform.on("POST", "/", Reply(201, headers={"location": cdr_location}))
    sessions = f"{endpoint(hub, 'sessions', 'receiver')}{mine.country_code}/{mine.party_id}/S1"

    pushed = bare(cpo, "PUT", sessions, session)
    posted = bare(
        cpo, "POST", endpoint(hub, "cdrs", "receiver"), {"id": "C1", "cdr_token": cdr_token}
    )

    assert pushed.json()["status_code"] == 1000 and posted.json()["status_code"] == 1000
    assert posted.headers["location"].startswith(f"{hub.url}/ocpi/{OCPI_VERSION}/cdrs/")
    assert [r.method for r in emsp.platform.wait_for(2)] == ["PUT", "POST"]
    for answer in (pushed, posted):
        names = [type(e).__name__ for e in ledger_of(hub, cpo, answer)]
        assert names == ["Received", "Routed", "Forwarded", "Answered", "Responded"]


def test_a_request_to_no_endpoint_at_all_is_refused_and_found_in_the_audit_view(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    answers = [
        bare(cpo, "PUT", f"{hub.url}/ocpi/{OCPI_VERSION}/Locations/receiver/NL/X/1", {"id": "1"}),
        bare(cpo, "OPTIONS", endpoint(hub, "locations", "receiver")),
        cpo.call("GET", "no-such-module", "sideways", request_id="nowhere-1"),
    ]

    for answer in answers:
        assert answer.status_code == 404 and answer.json()["status_code"] == 2000
        assert "no such endpoint" in answer.json()["status_message"]
        names = [type(e).__name__ for e in ledger_of(hub, cpo, answer)]
        assert names == ["Received", "Refused", "Responded"]

    def audit() -> list[dict[str, Any]]:
        query = {"party": str(cpo.party), "request_id": "nowhere-1"}
        found = httpx.get(f"{hub.url}/admin/messages", params=query, headers=ADMIN, timeout=10)
        return list(found.json()["data"]["messages"])

    wait_for(lambda: len(audit()) == 1, timeout=10, message="the refusal in the audit view")


def test_a_receivers_trailing_slash_redirect_is_followed_once_and_recorded(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    listing = cpo.platform.endpoint("locations", "sender")
    prefix = listing.removeprefix(cpo.platform.url)
    # Served at `.../locations/` only, as FastAPI apps with redirect_slashes do.
    cpo.platform.on(
        "GET",
        prefix,
        lambda recorded: (
            Reply(200)
            if recorded.path.endswith("/")
            else Reply(307, body=b"", headers={"location": listing + "/"})
        ),
    )

    answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="redirected-1")

    assert answer.json()["status_code"] == 1000
    assert [r.path for r in cpo.platform.requests] == [prefix, prefix + "/"]
    events = hub.wait_for_events(emsp, "redirected-1", lambda names: names[-1:] == ["Responded"])
    (answered,) = [e for e in events if type(e).__name__ == "Answered"]
    assert "trailing-slash redirect" in answered.note


def test_a_redirect_elsewhere_is_not_followed_and_named_to_the_requester(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    elsewhere = "https://elsewhere.example.com/steal"
    cpo.platform.on("GET", "/", Reply(302, body=b"", headers={"location": elsewhere}))

    answer = emsp.call("GET", "locations", "sender", to=cpo.party, request_id="moved-1")

    assert answer.status_code < 500 and answer.json()["status_code"] == 4000
    assert elsewhere in answer.json()["status_message"]
    assert "location" not in answer.headers
    assert len(cpo.platform.requests) == 1
    names = hub.event_names(emsp, "moved-1")
    assert names == ["Received", "Routed", "Forwarded", "Failed", "Responded"]


def test_an_operator_sets_a_connections_leniency_through_the_admin_api(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO)
    url = f"{hub.url}/admin/connections/{cpo.connection_id}/leniency"

    strict = httpx.put(url, json={"leniency": "strict"}, headers=ADMIN, timeout=10)
    wrong = httpx.put(url, json={"leniency": "sloppy"}, headers=ADMIN, timeout=10)
    invited = httpx.post(
        f"{hub.url}/admin/invitations",
        json={"label": "careful peer", "leniency": "strict"},
        headers=ADMIN,
        timeout=10,
    )

    assert strict.status_code == 200 and strict.json()["leniency"] == "strict"
    assert wrong.status_code == 422
    assert invited.status_code == 201
    shown = httpx.get(
        f"{hub.url}/admin/connections/{invited.json()['id']}", headers=ADMIN, timeout=10
    )
    assert shown.json()["leniency"] == "strict"
    events = httpx.get(f"{url.rsplit('/', 1)[0]}/events", headers=ADMIN, timeout=10).json()
    assert events[-1]["type"] == "LeniencySet" and events[-1]["fields"]["leniency"] == "strict"
