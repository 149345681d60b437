"""A hub never routes a custom module: it refuses it with a clear OCPI error, on record."""

from __future__ import annotations

import httpx

from domain.values import Role
from tests.support.hub import HubUnderTest

MODULE = "x-evroaming-reservations"


def test_a_custom_module_request_to_a_hub_is_refused_and_recorded_never_forwarded(
    hub: HubUnderTest,
) -> None:
    cpo_endpoints = [{"identifier": MODULE, "role": "RECEIVER", "url": "http://cpo/r"}]
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, endpoints=cpo_endpoints)
    answer = emsp.call(
        "POST", MODULE, "receiver", "/NL/X/1", to=cpo.party, body={"a": 1}, request_id="c-1"
    )
    assert answer.status_code == 404
    body = answer.json()
    assert body["status_code"] == 2001
    assert "routed between platforms directly, never via a hub" in body["status_message"]
    assert cpo.platform.requests == []
    events = hub.events(emsp, "c-1")
    assert [type(e).__name__ for e in events] == ["Received", "Refused", "Responded"]
    assert events[0].module == MODULE and events[1].ocpi_status == 2001


def test_a_custom_module_path_needs_a_known_token_and_ocpi_paths_answer_as_before(
    hub: HubUnderTest,
) -> None:
    anonymous = httpx.post(f"{hub.url}/ocpi/2.2.1/{MODULE}/receiver", timeout=10)
    assert anonymous.status_code == 401
    emsp = hub.connect(Role.EMSP)
    # not a custom module id, nor an OCPI interface: no such endpoint, as before
    for module, interface in (("Bad.Id", "receiver"), (MODULE, "both"), ("credentials", "x")):
        answer = emsp.call("GET", module, interface)
        assert answer.status_code == 404, (module, interface, answer.text)


def test_a_refused_path_under_a_custom_module_is_recorded_with_its_module(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    answer = emsp.call("GET", MODULE, "both", "/sub/path", request_id="custom-both-1")
    assert answer.status_code == 404
    received = hub.events(emsp, "custom-both-1")[0]
    assert (received.module, received.interface) == (MODULE, "both")
