"""Counterparty receipts: each party of a routed message fetches, with its own OCPI token, a
receipt signed by the hub that it checks with the published key; nobody else gets one."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx

from application.signing import load_public_key, signature_problem
from domain.values import Role
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest, Peer

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}


def get(hub: HubUnderTest, peer: Peer, path: str, **params: str) -> httpx.Response:
    token = "Token " + base64.b64encode(peer.token.encode()).decode()
    return hub.client.get(f"{hub.url}{path}", params=params, headers={"authorization": token})


def test_each_party_of_a_message_gets_a_signed_receipt_and_nobody_else(
    hub: HubUnderTest,
) -> None:
    emsp, cpo, stranger = hub.connect(Role.EMSP), hub.connect(Role.CPO), hub.connect(Role.CPO)
    cpo.platform.on("POST", "/", Reply(200, envelope({"result": "ACCEPTED", "timeout": 30})))
    command = {"response_url": f"{emsp.platform.url}/cb/1", "location_id": "LOC1"}
    answer = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command,
        request_id="receipt-cmd-1",
    )  # fmt: skip
    forwarded = cpo.platform.wait_for(1)[0]
    node = hub.node
    node.runners["audit"].wait(node.store.ledger.recorder.max_notification_id(), timeout=10)
    key = load_public_key(
        get(hub, emsp, "/ocpi/receipts/public-key").json()["data"]["public_key_pem"]
    )

    (mine,) = get(hub, emsp, "/ocpi/receipts", request_id="receipt-cmd-1").json()["data"]
    assert signature_problem(mine, key) is None
    assert mine["issued_to"] == str(emsp.connection_id)
    assert (
        mine["message"]["request_sha256"]
        == hashlib.sha256(json.dumps(command).encode()).hexdigest()
    )
    assert mine["answer"]["answer_sha256"] == hashlib.sha256(answer.content).hexdigest()
    assert mine["answer"]["http_status"] == 200 and mine["answer"]["ocpi_status"] == 1000
    # The stored records and their links; the legs and the answer are read from their steps.
    assert [r["event"] for r in mine["records"]] == ["Admitted", "Concluded"]
    assert [leg["event"] for leg in mine["legs"]] == ["Forwarded", "Answered"]
    assert mine["checkpoint"]["chains"]["ledger"]["position"] >= mine["records"][-1]["position"]
    assert signature_problem(mine["checkpoint"], key) is None

    # The receiver knows the message by the X-Request-ID the hub sent it.
    leg_request_id = forwarded.headers["x-request-id"]
    (theirs,) = get(hub, cpo, "/ocpi/receipts", request_id=leg_request_id).json()["data"]
    assert theirs["message"]["id"] == mine["message"]["id"]
    assert signature_problem(theirs, key) is None

    message_id = mine["message"]["id"]
    refused = get(hub, stranger, f"/ocpi/receipts/{message_id}")
    assert refused.status_code == 404 and refused.json()["status_code"] == 2000
    assert get(hub, stranger, "/ocpi/receipts", request_id="receipt-cmd-1").json()["data"] == []
    assert hub.client.get(f"{hub.url}/ocpi/receipts/{message_id}").status_code == 401
    operator = hub.client.get(f"{hub.url}/admin/messages/{message_id}/receipt", headers=ADMIN)
    assert operator.json()["data"]["issued_to"] == "operator"

    tampered = {**mine, "answer": {**mine["answer"], "ocpi_status": 2000}}
    assert signature_problem(tampered, key) is not None
