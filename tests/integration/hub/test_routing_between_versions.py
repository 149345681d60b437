"""Parties of OCPI 2.1.1, 2.2.1 and 2.3.0 behind one hub: 2.1.1 traffic routed by content, every
leg translated to its receiver's version, answers back to the requester's, and the loss report
of each translation in the ledger (issue 17)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from api.cli import main
from application.routing.versions import loss_record
from application.tokens import hash_token
from domain.connections import Leniency
from domain.messages import message_id
from domain.translation import ObjectKind, TranslationContext, translate
from domain.values import PartyRef, Role
from tests.integration.console.test_console_http import sign_in
from tests.support.fake_platform import FakePlatform, Reply, envelope
from tests.support.hub import HUB, HubUnderTest, Peer
from tests.unit.translation.examples import (
    CDR_211,
    CDR_221,
    LOCATION_211,
    LOCATION_221,
    SESSION_211,
    TARIFF_221,
    TOKEN_211,
    TOKEN_221,
)

ADMIN_TOKEN = "hub-admin-token-0123456789"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}


def _event(hub: HubUnderTest, peer: Peer, request_id: str, name: str) -> Any:
    events = hub.wait_for_events(peer, request_id, lambda names: name in names)
    return next(event for event in events if type(event).__name__ == name)


def _losses(record: dict[str, Any]) -> dict[str, str]:
    return {loss["path"]: loss["kind"] for loss in record["losses"]}


def _authorization(peer: Peer) -> str:
    return "Token " + base64.b64encode(peer.token.encode()).decode()


def _start_session(emsp: Peer, response_url: str, **extra: Any) -> dict[str, Any]:
    token = {**TOKEN_221, "country_code": "NL", "party_id": emsp.party.party_id}
    return {
        "response_url": response_url,
        "token": token,
        "location_id": "LOC-1",
        "evse_uid": "EVSE-1",
        **extra,
    }


def test_a_2_1_1_cpo_location_push_reaches_a_2_2_1_emsp_in_its_shape_with_the_loss_report(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO, version="2.1.1")
    emsp = hub.connect(Role.EMSP)
    # 2.1.1 has no routing headers: even a strict 2.1.1 peer's push is broadcast
    hub.node.wait_for_registry(
        hub.node.registry.set_leniency(cpo.connection_id, Leniency.STRICT, "test")
    )

    answer = cpo.call(
        "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/LOC-1",
        body=LOCATION_211, request_id="loc-1",
    )  # fmt: skip

    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    delivered = emsp.platform.wait_for(1)[0]
    assert delivered.path.endswith(f"/locations/receiver/NL/{cpo.party.party_id}/LOC-1")
    location = json.loads(delivered.body)
    assert (location["country_code"], location["party_id"]) == ("NL", cpo.party.party_id)
    assert location["parking_type"] == "ON_STREET" and location["publish"] is True
    assert location["evses"][0]["connectors"][0]["max_voltage"] == 230
    assert delivered.headers["ocpi-from-party-id"] == HUB.party_id
    assert delivered.headers["ocpi-to-party-id"] == emsp.party.party_id

    routed = _event(hub, cpo, "loc-1", "Routed")
    assert routed.classification == "BROADCAST" and "2.1.1 has no routing headers" in routed.reason
    forwarded = _event(hub, cpo, "loc-1", "Forwarded")
    assert forwarded.translation["source_version"] == "2.1.1"
    assert forwarded.translation["target_version"] == "2.2.1"
    assert _losses(forwarded.translation)["publish"] == "defaulted"
    assert hub.body(forwarded.body_sha256) == delivered.body


def test_the_audit_view_console_and_traffic_show_what_a_translation_lost(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO, version="2.1.1")
    emsp = hub.connect(Role.EMSP)
    cpo.platform.on("GET", "/", Reply(200, envelope(LOCATION_211)))
    cpo.call(
        "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/LOC-1",
        body=LOCATION_211, request_id="loc-2",
    )  # fmt: skip
    emsp.call("GET", "locations", "sender", "/LOC-1", to=cpo.party, request_id="get-2")
    hub.wait_for_events(cpo, "loc-2", lambda names: "Answered" in names)
    head = hub.node.ledger.recorder.max_notification_id()
    for view in ("audit", "traffic"):
        hub.node.runners[view].wait(head, timeout=15)
    pushed = str(message_id(str(cpo.connection_id), "loc-2"))

    timeline = hub.client.get(f"{hub.url}/admin/messages/{pushed}", headers=ADMIN).json()["data"]

    leg = timeline["legs"][0]
    assert leg["translation"]["source_version"] == "2.1.1"
    assert {"path": "publish", "kind": "defaulted", "source_value": None, "target_value": True} in (
        leg["translation"]["losses"]
    )
    assert leg["result"]["translation"] is None  # a broadcast's answers go back to nobody

    traffic = hub.client.get(
        f"{hub.url}/admin/traffic", params={"party": str(cpo.party)}, headers=ADMIN
    ).json()["data"]["translations"]
    pairs = {(t["party"], t["counterpart"], t["module"]): t for t in traffic}
    pushed_pair = pairs[(str(cpo.party), str(emsp.party), "locations")]
    assert (pushed_pair["source_version"], pushed_pair["target_version"]) == ("2.1.1", "2.2.1")
    # the push's leg and the GET's answer, both from the 2.1.1 CPO toward the 2.2.1 eMSP
    assert pushed_pair["translations"] == 2 and pushed_pair["lossy"] == 2
    assert pushed_pair["losses"] >= len(leg["translation"]["losses"]) + 1
    read = pairs[(str(emsp.party), str(cpo.party), "locations")]
    assert (read["source_version"], read["target_version"]) == ("2.2.1", "2.1.1")
    assert (read["translations"], read["lossy"]) == (1, 0)  # a GET has no body to lose

    with httpx.Client(base_url=hub.url) as browser:
        sign_in(browser, ADMIN_TOKEN)  # type: ignore[arg-type]
        page = browser.get(f"/console/messages/{pushed}").text
    assert "Translations between OCPI versions" in page
    assert "OCPI 2.1.1 → 2.2.1" in page and "<code>publish</code>" in page


def test_a_2_2_1_start_session_reaches_a_2_1_1_cpo_and_its_result_comes_back_in_2_2_1(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, version="2.1.1")
    cpo.platform.on("POST", "/", Reply(200, envelope({"result": "ACCEPTED"})))
    original = f"{emsp.platform.url}/ocpi/emsp/commands/START_SESSION/42"
    command = _start_session(emsp, original, authorization_reference="AR-1")

    answer = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command,
        request_id="cmd-1",
    )  # fmt: skip

    assert answer.json()["data"] == {"result": "ACCEPTED", "timeout": 60}
    sent = cpo.platform.wait_for(1)[0]
    start = json.loads(sent.body)
    assert start["token"]["auth_id"] == TOKEN_221["contract_id"]
    assert "country_code" not in start["token"] and "authorization_reference" not in start
    callback = start["response_url"]
    assert callback.startswith(f"{hub.url}/ocpi/2.1.1/commands/sender/callbacks/")
    assert not any(name.startswith("ocpi-") for name in sent.headers)
    forwarded = _event(hub, emsp, "cmd-1", "Forwarded")
    assert _losses(forwarded.translation)["authorization_reference"] == "dropped"
    assert hub.body(forwarded.body_sha256) == sent.body
    answered = _event(hub, emsp, "cmd-1", "Answered")
    assert answered.translation["source_version"] == "2.1.1"
    assert _losses(answered.translation)["timeout"] == "defaulted"

    relayed = cpo.call(
        "POST", "commands", "sender", body={"result": "UNKNOWN_SESSION"}, url=callback,
        request_id="cb-1",
    )  # fmt: skip

    assert relayed.status_code == 200 and relayed.json()["status_code"] == 1000
    result = emsp.platform.wait_for(1)[0]
    assert f"{emsp.platform.url}{result.path}" == original
    assert json.loads(result.body) == {"result": "FAILED"}
    assert result.headers["ocpi-from-party-id"] == cpo.party.party_id
    assert result.headers["ocpi-to-party-id"] == emsp.party.party_id
    callback_leg = _event(hub, cpo, "cb-1", "Forwarded")
    assert _losses(callback_leg.translation)["result"] == "approximated"


def test_a_2_1_1_emsp_start_session_goes_to_the_location_owner_and_its_result_comes_back(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP, version="2.1.1")
    cpo = hub.connect(Role.CPO)
    location = {**LOCATION_221, "party_id": cpo.party.party_id}
    cpo.call(
        "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/LOC-1", to=HUB, body=location
    )
    emsp.platform.wait_for(1)
    cpo.platform.on("POST", "/", Reply(200, envelope({"result": "ACCEPTED", "timeout": 30})))
    original = f"{emsp.platform.url}/ocpi/emsp/commands/START_SESSION/7"
    command = {"response_url": original, "token": TOKEN_211, "location_id": "LOC-1"}

    answer = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", body=command, request_id="cmd-211"
    )

    assert answer.json()["data"] == {"result": "ACCEPTED"}
    sent = cpo.platform.wait_for(1)[0]
    start = json.loads(sent.body)
    assert start["token"]["contract_id"] == TOKEN_211["auth_id"]
    assert start["token"]["party_id"] == emsp.party.party_id
    assert sent.headers["ocpi-from-party-id"] == emsp.party.party_id
    assert sent.headers["ocpi-to-party-id"] == cpo.party.party_id
    callback = start["response_url"]
    assert callback.startswith(f"{hub.url}/ocpi/2.2.1/commands/sender/callbacks/")
    routed = _event(hub, emsp, "cmd-211", "Routed")
    assert routed.classification == "OPEN_ROUTING" and routed.targets == [str(cpo.party)]

    cpo.call(
        "POST", "commands", "sender", to=emsp.party, body={"result": "EVSE_OCCUPIED"}, url=callback
    )

    result = emsp.platform.wait_for(2)[1]
    assert f"{emsp.platform.url}{result.path}" == original
    assert json.loads(result.body) == {"result": "REJECTED"}
    assert not any(name.startswith("ocpi-") for name in result.headers)


def test_a_2_2_1_emsp_reads_a_2_1_1_location_in_2_2_1(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, version="2.1.1")
    cpo.platform.on("GET", "/", Reply(200, envelope(LOCATION_211)))

    answer = emsp.call("GET", "locations", "sender", "/LOC-1", to=cpo.party, request_id="get-1")

    location = answer.json()["data"]
    assert (location["country_code"], location["party_id"]) == ("NL", cpo.party.party_id)
    assert location["evses"][0]["connectors"][0]["tariff_ids"] == ["T1"]
    answered = _event(hub, emsp, "get-1", "Answered")
    assert answered.translation["target_version"] == "2.2.1"
    assert _losses(answered.translation)["publish"] == "defaulted"
    responded = _event(hub, emsp, "get-1", "Responded")
    assert hub.body(responded.body_sha256) == answer.content


def _upgrade(hub: HubUnderTest, peer: Peer, role: Role, version: str) -> Peer:
    """`peer` after a credentials PUT moving its connection to OCPI `version` (§10.6)."""
    details = {"name": f"{role} {peer.party.party_id}"}
    roles = [{"role": str(role), "country_code": "NL", "party_id": peer.party.party_id,
              "business_details": details}]  # fmt: skip
    refused, position = hub.node.registry.update_credentials(
        peer.connection_id,
        version,
        peer.platform.endpoints_for(role),
        roles,
        hash_token(peer.token),
        peer.outbound_token,
        "peer",
    )
    assert not refused, refused
    hub.node.wait_for_registry(position)
    return replace(peer, version=version)


def test_an_owners_get_of_the_hubs_copy_after_an_upgrade_is_translated_from_its_push_version(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO, version="2.1.1")
    emsp = hub.connect(Role.EMSP)
    path = f"/NL/{cpo.party.party_id}/LOC-1"
    cpo.call("PUT", "locations", "receiver", path, body=LOCATION_211)  # stored as pushed: 2.1.1
    cpo = _upgrade(hub, cpo, Role.CPO, "2.2.1")
    context = TranslationContext(owner=PartyRef("NL", cpo.party.party_id))

    read = cpo.call("GET", "locations", "receiver", path, to=HUB, request_id="copy-1")
    evse = cpo.call("GET", "locations", "receiver", path + "/EVSE-1", to=HUB, request_id="copy-2")
    every = emsp.call("GET", "locations", "sender", to=HUB).json()["data"]

    expected = translate(ObjectKind.LOCATION, LOCATION_211, "2.1.1", "2.2.1", context)
    assert read.json().get("data") == expected.body, read.text  # 2.2.1, not the 2.1.1 push
    responded = _event(hub, cpo, "copy-1", "Responded")
    assert expected.losses
    assert responded.translation == loss_record("2.1.1", "2.2.1", expected.losses)
    assert hub.body(responded.body_sha256) == read.content
    assert "translated from OCPI 2.1.1" in _event(hub, cpo, "copy-1", "Routed").reason
    expected_evse = translate(ObjectKind.EVSE, LOCATION_211["evses"][0], "2.1.1", "2.2.1", context)
    assert evse.json()["data"] == expected_evse.body
    assert _event(hub, cpo, "copy-2", "Responded").translation == loss_record(
        "2.1.1", "2.2.1", expected_evse.losses
    )
    assert every == [expected.body]  # GET All reads the push's version too, not the connection's
    head = hub.node.ledger.recorder.max_notification_id()
    hub.node.runners["traffic"].wait(head, timeout=15)
    traffic = hub.client.get(
        f"{hub.url}/admin/traffic", params={"party": str(cpo.party)}, headers=ADMIN
    ).json()["data"]["translations"]
    pairs = {(t["party"], t["counterpart"]): t for t in traffic if t["module"] == "locations"}
    copies = pairs[(str(HUB), str(cpo.party))]  # the hub's copy toward its owner
    assert (copies["source_version"], copies["target_version"]) == ("2.1.1", "2.2.1")
    assert copies["translations"] == 2 and copies["losses"] == len(expected.losses) + len(
        expected_evse.losses
    )
    hub.node.runners["audit"].wait(head, timeout=15)
    with httpx.Client(base_url=hub.url) as browser:
        sign_in(browser, ADMIN_TOKEN)  # type: ignore[arg-type]
        read_id = message_id(str(cpo.connection_id), "copy-1")
        page = browser.get(f"/console/messages/{read_id}").text
    assert f"translated OCPI 2.1.1 → 2.2.1, {len(expected.losses)} loss(es)" in page


def test_an_owners_get_of_its_copy_in_the_version_it_pushed_is_served_as_stored(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO, version="2.3.0")
    location = {**LOCATION_221, "party_id": cpo.party.party_id}
    path = f"/NL/{cpo.party.party_id}/{location['id']}"
    cpo.call("PUT", "locations", "receiver", path, to=HUB, body=location)

    read = cpo.call("GET", "locations", "receiver", path, to=HUB, request_id="copy-3")

    assert read.json()["data"] == location
    assert _event(hub, cpo, "copy-3", "Responded").translation is None


def test_2_1_1_session_and_cdr_pushes_go_to_the_owner_of_their_token(hub: HubUnderTest) -> None:
    emsp = hub.connect(Role.EMSP)
    bystander = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, version="2.1.1")
    token = {**TOKEN_221, "country_code": "NL", "party_id": emsp.party.party_id}
    pushed = emsp.call(
        "PUT", "tokens", "receiver", f"/NL/{emsp.party.party_id}/{token['uid']}", to=HUB,
        body=token,
    )  # fmt: skip
    assert pushed.json()["status_code"] == 1000
    token_211 = json.loads(cpo.platform.wait_for(1)[0].body)
    assert token_211["auth_id"] == token["contract_id"] and "party_id" not in token_211

    answer = cpo.call(
        "PUT", "sessions", "receiver", f"/NL/{cpo.party.party_id}/S-1", body=SESSION_211,
        request_id="ses-1",
    )  # fmt: skip

    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    session = json.loads(emsp.platform.wait_for(1)[0].body)
    # the token the eMSP pushed with that contract id: its uid and type, not the auth_id again
    assert session["cdr_token"] == {
        "country_code": "NL", "party_id": emsp.party.party_id, "uid": token["uid"],
        "type": "RFID", "contract_id": token["contract_id"],
    }  # fmt: skip
    assert (session["party_id"], session["location_id"]) == (cpo.party.party_id, "LOC-1")
    routed = _event(hub, cpo, "ses-1", "Routed")
    assert routed.targets == [str(emsp.party)]
    assert "routed by token" in routed.reason and token["contract_id"] in routed.reason
    forwarded = _event(hub, cpo, "ses-1", "Forwarded")
    assert _losses(forwarded.translation)["auth_id"] == "approximated"

    # a PATCH names no token: it goes where its session went
    patched = cpo.call(
        "PATCH", "sessions", "receiver", f"/NL/{cpo.party.party_id}/S-1",
        body={"kwh": 20.5, "last_updated": "2025-03-01T10:05:00Z"}, request_id="ses-1p",
    )  # fmt: skip
    assert patched.json()["status_code"] == 1000
    patch = emsp.platform.wait_for(2)[1]
    assert patch.method == "PATCH" and json.loads(patch.body)["kwh"] == 20.5
    assert "session 'S-1'" in _event(hub, cpo, "ses-1p", "Routed").reason

    # a token pushed to the CPO directly (OCPI-to) names its contract id just as well
    direct = {**token, "uid": "UID-2", "contract_id": "NL-MSP-C2"}
    emsp.call(
        "PUT", "tokens", "receiver", f"/NL/{emsp.party.party_id}/UID-2", to=cpo.party, body=direct
    )
    cdr = cpo.call(
        "POST", "cdrs", "receiver", body={**CDR_211, "auth_id": "NL-MSP-C2"}, request_id="cdr-1"
    )

    assert cdr.json()["status_code"] == 1000
    received = json.loads(emsp.platform.wait_for(3)[2].body)
    assert received["cdr_token"]["contract_id"] == "NL-MSP-C2"
    assert received["cdr_location"]["evse_id"] == "NL*CPO*E1"
    assert received["cdr_token"]["party_id"] == emsp.party.party_id
    assert received["cdr_token"]["uid"] == "UID-2"
    assert bystander.platform.requests == []

    unknown = cpo.call(
        "PUT", "sessions", "receiver", f"/NL/{cpo.party.party_id}/S-2",
        body={**SESSION_211, "id": "S-2", "auth_id": "NOBODY"}, request_id="ses-2",
    )  # fmt: skip
    # 2.1.1 has no hub status codes: 4001 (unknown receiver) is said as 2001
    assert unknown.json()["status_code"] == 2001
    assert "auth_id 'NOBODY'" in unknown.json()["status_message"]
    assert "(hub error 4001" in unknown.json()["status_message"]
    assert "Refused" in hub.event_names(cpo, "ses-2")


def test_a_2_2_1_cdr_reaches_a_2_1_1_emsp_with_the_location_the_cpo_pushed_embedded(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    emsp = hub.connect(Role.EMSP, version="2.1.1")
    location = {**LOCATION_221, "party_id": cpo.party.party_id}
    cpo.call(
        "PUT", "locations", "receiver", f"/NL/{cpo.party.party_id}/LOC-1", to=HUB, body=location
    )
    emsp.platform.wait_for(1)
    cdr = {**CDR_221, "party_id": cpo.party.party_id}

    answer = cpo.call(
        "POST", "cdrs", "receiver", to=emsp.party, body=cdr, request_id="cdr-221"
    )  # a CDR's URL names no owner: the stored location is the sending CPO's

    assert answer.json()["status_code"] == 1000
    embedded = json.loads(emsp.platform.wait_for(2)[1].body)["location"]
    assert embedded["type"] == "ON_STREET"
    assert embedded["evses"][0]["connectors"][0]["voltage"] == 230
    defaulted = {
        path for path, kind in _losses(_event(hub, cpo, "cdr-221", "Forwarded").translation).items()
        if kind == "defaulted"
    }  # fmt: skip
    assert not any(path.startswith("location") for path in defaulted), defaulted


def test_real_time_authorisation_between_a_2_1_1_and_a_2_2_1_party_both_ways(
    hub: HubUnderTest,
) -> None:
    emsp_221 = hub.connect(Role.EMSP)
    cpo_211 = hub.connect(Role.CPO, version="2.1.1")
    emsp_211 = hub.connect(Role.EMSP, version="2.1.1")
    cpo_221 = hub.connect(Role.CPO)
    token_221 = {**TOKEN_221, "uid": "UID-221", "party_id": emsp_221.party.party_id}
    emsp_221.call(
        "PUT", "tokens", "receiver", f"/NL/{emsp_221.party.party_id}/UID-221", to=HUB,
        body=token_221,
    )  # fmt: skip
    token_211 = {**TOKEN_211, "uid": "UID-211", "auth_id": "NL-EMB-C1"}
    emsp_211.call(
        "PUT", "tokens", "receiver", f"/NL/{emsp_211.party.party_id}/UID-211", body=token_211
    )
    cpo_211.platform.wait_for(2)
    cpo_221.platform.wait_for(2)
    emsp_221.platform.on(
        "POST", "/", Reply(200, envelope({"allowed": "ALLOWED", "token": token_221,
                                          "authorization_reference": "AR-9"}))
    )  # fmt: skip
    emsp_211.platform.on("POST", "/", Reply(200, envelope({"allowed": "ALLOWED"})))
    where = {"location_id": "LOC-1", "evse_uids": ["EVSE-1"], "connector_ids": ["1"]}

    from_211 = cpo_211.call(
        "POST", "tokens", "sender", "/UID-221/authorize", body=where, request_id="auth-1"
    )

    assert from_211.json()["data"] == {"allowed": "ALLOWED"}
    asked = emsp_221.platform.wait_for(1)[0]
    assert json.loads(asked.body) == {"location_id": "LOC-1", "evse_uids": ["EVSE-1"]}
    assert asked.headers["ocpi-from-party-id"] == cpo_211.party.party_id
    answered = _event(hub, cpo_211, "auth-1", "Answered")
    assert _losses(answered.translation)["token"] == "dropped"

    from_221 = cpo_221.call(
        "POST", "tokens", "sender", "/UID-211/authorize", body=where, request_id="auth-2"
    )

    authorised = from_221.json()["data"]
    assert authorised["allowed"] == "ALLOWED"
    assert authorised["token"]["uid"] == "UID-211"
    assert authorised["token"]["party_id"] == emsp_211.party.party_id
    assert authorised["token"]["contract_id"] == "NL-EMB-C1"
    asked = emsp_211.platform.wait_for(1)[0]
    assert not any(name.startswith("ocpi-") for name in asked.headers)
    answered = _event(hub, cpo_221, "auth-2", "Answered")
    assert _losses(answered.translation)["token"] == "defaulted"


def test_a_broadcast_reaches_each_version_in_its_shape_and_skips_a_refusing_policy_on_record(
    hub: HubUnderTest,
) -> None:
    cpo = hub.connect(Role.CPO)
    emsp_211 = hub.connect(Role.EMSP, version="2.1.1")
    emsp_230 = hub.connect(Role.EMSP, version="2.3.0")
    hub.node.wait_for_registry(
        hub.node.registry.set_translation_policy(
            emsp_211.connection_id, ["tariffs.min_price"], "test"
        )
    )
    tariff = {**TARIFF_221, "party_id": cpo.party.party_id, "min_price": {"excl_vat": 1.5}}

    answer = cpo.call(
        "PUT", "tariffs", "receiver", f"/NL/{cpo.party.party_id}/T1", to=HUB, body=tariff,
        request_id="tariff-1",
    )  # fmt: skip

    assert answer.json()["status_code"] == 1000
    delivered = json.loads(emsp_230.platform.wait_for(1)[0].body)
    assert delivered["min_price"] == {"before_taxes": 1.5}
    assert delivered["tax_included"] == "NO"
    routed = _event(hub, cpo, "tariff-1", "Routed")
    assert routed.targets == [str(emsp_230.party)]
    assert "not sent to 1" in routed.reason and "tariffs.min_price" in routed.reason
    forwarded = _event(hub, cpo, "tariff-1", "Forwarded")
    assert forwarded.translation["target_version"] == "2.3.0"
    assert _losses(forwarded.translation)["tax_included"] == "defaulted"
    assert emsp_211.platform.requests == []


def test_get_all_from_the_hub_answers_each_party_in_its_own_version(hub: HubUnderTest) -> None:
    cpo_211 = hub.connect(Role.CPO, version="2.1.1")
    cpo_221 = hub.connect(Role.CPO)
    emsp_211 = hub.connect(Role.EMSP, version="2.1.1")
    emsp_221 = hub.connect(Role.EMSP)
    cpo_211.call(
        "PUT", "locations", "receiver", f"/NL/{cpo_211.party.party_id}/LOC-1", body=LOCATION_211
    )
    location_221 = {**LOCATION_221, "id": "LOC-2", "party_id": cpo_221.party.party_id}
    cpo_221.call(
        "PUT", "locations", "receiver", f"/NL/{cpo_221.party.party_id}/LOC-2", to=HUB,
        body=location_221,
    )  # fmt: skip

    newer = emsp_221.call("GET", "locations", "sender", to=HUB).json()["data"]
    older = emsp_211.call("GET", "locations", "sender", request_id="all-211").json()["data"]

    by_id = {location["id"]: location for location in newer}
    assert by_id["LOC-1"]["party_id"] == cpo_211.party.party_id
    assert by_id["LOC-1"]["evses"][0]["connectors"][0]["max_voltage"] == 230
    assert by_id["LOC-2"] == location_221
    by_id = {location["id"]: location for location in older}
    assert by_id["LOC-1"] == LOCATION_211
    assert "party_id" not in by_id["LOC-2"]
    assert by_id["LOC-2"]["evses"][0]["connectors"][0]["voltage"] == 230
    responded = _event(hub, emsp_211, "all-211", "Responded")
    assert "1 stored object(s) translated to OCPI 2.1.1" in responded.note


def test_a_translation_policy_refuses_a_command_that_would_lose_a_listed_field(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, version="2.1.1")
    policy = httpx.put(
        f"{hub.url}/admin/connections/{emsp.connection_id}/translation-policy",
        json={"refuse_losing": ["commands.authorization_reference"]},
        headers=ADMIN,
    )
    assert policy.status_code == 200
    assert policy.json()["refuse_losing"] == ["commands.authorization_reference"]
    nonsense = httpx.put(
        f"{hub.url}/admin/connections/{emsp.connection_id}/translation-policy",
        json={"refuse_losing": ["Not a field"]},
        headers=ADMIN,
    )
    assert nonsense.status_code == 422
    command = _start_session(emsp, f"{emsp.platform.url}/cb", authorization_reference="AR-1")

    refused = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command,
        request_id="cmd-2",
    )  # fmt: skip

    assert refused.status_code == 400 and refused.json()["status_code"] == 2001
    assert "commands.authorization_reference" in refused.json()["status_message"]
    assert cpo.platform.requests == []
    assert "Refused" in hub.event_names(emsp, "cmd-2")

    accepted = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party,
        body=_start_session(emsp, f"{emsp.platform.url}/cb"),
    )  # fmt: skip
    assert accepted.json()["status_code"] == 1000 and len(cpo.platform.wait_for(1)) == 1


def test_a_cancel_reservation_toward_a_2_1_1_cpo_is_answered_not_supported_by_the_hub(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    emsp_230 = hub.connect(Role.EMSP, version="2.3.0")
    cpo = hub.connect(Role.CPO, version="2.1.1")
    cancel = {"response_url": f"{emsp.platform.url}/cb", "reservation_id": "R1"}

    for requester, request_id in ((emsp, "cancel-1"), (emsp_230, "cancel-2")):
        answer = requester.call(
            "POST", "commands", "receiver", "/CANCEL_RESERVATION", to=cpo.party, body=cancel,
            request_id=request_id,
        )  # fmt: skip

        # 2.2.1's own answer for a command the CPO cannot do: no result will follow
        assert answer.status_code == 200 and answer.json()["status_code"] == 1000
        data = answer.json()["data"]
        assert data["result"] == "NOT_SUPPORTED" and data["timeout"] == 0
        assert "2.1.1" in data["message"][0]["text"]
        routed = _event(hub, requester, request_id, "Routed")
        assert "answered by the hub" in routed.reason and "CANCEL_RESERVATION" in routed.reason
        assert routed.targets == [str(cpo.party)]
        names = hub.event_names(requester, request_id)
        assert "Responded" in names and "Refused" not in names and "Forwarded" not in names
    assert cpo.platform.requests == []


def test_a_charging_profile_request_toward_a_2_1_1_cpo_is_answered_not_supported(
    hub: HubUnderTest,
) -> None:
    emsp = hub.connect(Role.EMSP)
    cpo = hub.connect(Role.CPO, version="2.1.1")
    profile = {
        "charging_profile": {"charging_rate_unit": "A", "charging_profile_period": []},
        "response_url": f"{emsp.platform.url}/cb",
    }
    query = f"?duration=900&response_url={emsp.platform.url}/cb"

    for method, path, body in (
        ("PUT", "/S1", profile),
        ("GET", "/S1" + query, None),
        ("DELETE", f"/S1?response_url={emsp.platform.url}/cb", None),
    ):
        answer = emsp.call(
            method, "chargingprofiles", "receiver", path, to=cpo.party, body=body,
            request_id=f"profile-{method}",
        )  # fmt: skip

        assert answer.status_code == 200 and answer.json()["status_code"] == 1000, answer.text
        assert answer.json()["data"] == {"result": "NOT_SUPPORTED", "timeout": 0}
        routed = _event(hub, emsp, f"profile-{method}", "Routed")
        assert "chargingprofiles module" in routed.reason
    assert cpo.platform.requests == []


def _payments_cpo_230(hub: HubUnderTest) -> Peer:
    """A 2.3.0 CPO whose platform serves the payments Receiver interface."""
    platform = FakePlatform().start()
    hub.platforms.append(platform)
    url = platform.endpoint("payments", "receiver")
    endpoints = [{"identifier": "payments", "role": "RECEIVER", "url": url}]
    return hub.connect(Role.CPO, platform=platform, version="2.3.0", endpoints=endpoints)


def test_payments_go_between_2_3_0_parties_and_are_refused_toward_2_2_1(
    hub: HubUnderTest,
) -> None:
    sender = hub.connect(Role.EMSP, version="2.3.0")
    terminals = _payments_cpo_230(hub)
    older = hub.connect(Role.CPO)
    path = f"/NL/{sender.party.party_id}/terminals/T-1"

    routed = sender.call("PUT", "payments", "receiver", path, to=terminals.party, body={"x": 1})

    assert routed.json()["status_code"] == 1000
    assert terminals.platform.wait_for(1)[0].path.endswith(f"/payments/receiver{path}")

    refused = sender.call(
        "PUT", "payments", "receiver", path, to=older.party, body={"x": 1}, request_id="pay-2"
    )
    assert refused.status_code == 400 and refused.json()["status_code"] == 2001
    assert "OCPI 2.2.1, which has no payments module" in refused.json()["status_message"]
    assert "Refused" in hub.event_names(sender, "pay-2")


def test_a_request_on_another_version_than_its_connection_is_refused(hub: HubUnderTest) -> None:
    cpo = hub.connect(Role.CPO, version="2.1.1")
    wrong = f"{hub.url}/ocpi/2.2.1/locations/receiver/NL/{cpo.party.party_id}/LOC-1"

    refused = cpo.call("PUT", "locations", "receiver", body=LOCATION_211, url=wrong)

    assert refused.status_code == 400 and refused.json()["status_code"] == 2001
    assert "speaks OCPI 2.1.1, not 2.2.1" in refused.json()["status_message"]


def test_a_party_ref_names_the_token_owner_only_when_it_is_unambiguous() -> None:
    from application.owner_index import CONTRACT, InMemoryOwnerIndex, OwnerFact

    index = InMemoryOwnerIndex()
    index.learn(OwnerFact(CONTRACT, "C1", PartyRef("NL", "AAA")))
    assert index.contract_owner("C1") == PartyRef("NL", "AAA")
    index.learn(OwnerFact(CONTRACT, "C1", PartyRef("NL", "BBB")))
    assert index.contract_owner("C1") is None


def _cli_on_a_2_1_1_connection(hub: HubUnderTest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The id of a new 2.1.1 eMSP connection, the CLI pointed at the hub."""
    monkeypatch.setenv("OCPI_LEDGER_URL", hub.url)
    monkeypatch.setenv("OCPI_LEDGER_ADMIN_TOKEN", ADMIN_TOKEN)
    return str(hub.connect(Role.EMSP, version="2.1.1").connection_id)


def test_the_cli_sets_a_connections_translation_policy(
    hub: HubUnderTest, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _cli_on_a_2_1_1_connection(hub, monkeypatch)

    assert main(["translation-policy", connection, "tariffs.min_price", "tariffs.max_price"]) == 0

    printed = capsys.readouterr().out
    assert f"connection {connection} (OCPI 2.1.1) refuses losing" in printed
    assert "tariffs.max_price, tariffs.min_price" in printed
    assert hub.node.routing_table.connection(connection).refuse_losing == (  # type: ignore[union-attr]
        "tariffs.max_price",
        "tariffs.min_price",
    )
    assert main(["translation-policy", connection]) == 0
    assert "(none: every translation is made)" in capsys.readouterr().out


def test_the_admin_api_and_the_cli_show_a_connections_translation_policy_from_the_sql_view(
    hub: HubUnderTest, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _cli_on_a_2_1_1_connection(hub, monkeypatch)
    policy = {"refuse_losing": ["tariffs.min_price", "locations.evses.connectors.standard"]}
    put = httpx.put(
        f"{hub.url}/admin/connections/{connection}/translation-policy", json=policy, headers=ADMIN
    )
    assert put.status_code == 200

    shown = httpx.get(f"{hub.url}/admin/connections/{connection}", headers=ADMIN).json()
    persisted = hub.node.routing_table_view.connection(connection)
    assert main(["connections"]) == 0

    expected = ["locations.evses.connectors.standard", "tariffs.min_price"]
    assert shown["refuse_losing"] == expected  # read from the SQL view, not the memory table
    assert persisted is not None and list(persisted.refuse_losing) == expected
    assert ",".join(expected) in capsys.readouterr().out


def test_a_2_3_0_ptp_pays_through_the_hub_to_2_3_0_cpos_only_and_2_2_1_peers_never_see_it(
    hub: HubUnderTest,
) -> None:
    ptp = hub.connect(Role.PTP, version="2.3.0")
    cpo = _payments_cpo_230(hub)
    older = hub.connect(Role.CPO)
    path = f"/NL/{ptp.party.party_id}/terminals/T-1"
    terminal = {"terminal_id": "T-1", "last_updated": "2026-12-01T20:00:00Z"}

    paid = ptp.call("PUT", "payments", "receiver", path, to=cpo.party, body=terminal,
                    request_id="ptp-1")  # fmt: skip

    assert paid.json()["status_code"] == 1000, paid.text
    (received,) = cpo.platform.wait_for(1)
    assert received.path.endswith(f"/payments/receiver{path}")
    assert received.json() == terminal
    assert received.headers["ocpi-from-party-id"] == ptp.party.party_id
    assert _event(hub, ptp, "ptp-1", "Forwarded").translation is None
    refused = ptp.call("PUT", "payments", "receiver", path, to=older.party, body=terminal,
                       request_id="ptp-2")  # fmt: skip
    assert refused.status_code == 400 and refused.json()["status_code"] == 2001
    assert "OCPI 2.2.1, which has no payments module" in refused.json()["status_message"]
    assert "Refused" in hub.event_names(ptp, "ptp-2")
    # 2.2.1's Role has no PTP: a 2.2.1 peer is not told of the PTP, a 2.3.0 peer is
    listed = {
        peer.version: {
            (info["party_id"], info["role"])
            for info in hub.client.get(
                f"{hub.url}/ocpi/{peer.version}/hubclientinfo",
                headers={"authorization": _authorization(peer)},
            ).json()["data"]
        }
        for peer in (older, cpo)
    }
    assert (ptp.party.party_id, "PTP") not in listed["2.2.1"]
    assert (cpo.party.party_id, "CPO") in listed["2.2.1"]
    assert (ptp.party.party_id, "PTP") in listed["2.3.0"]
