"""Re-driving a recorded push: the operator sends it once more, as a new message that names the
one it repeats, through the normal routing path; and what cannot be re-driven is refused
clearly."""

from __future__ import annotations

import json
from uuid import UUID

import httpx
import pytest

from api.cli import main
from domain.messages import message_id
from domain.values import Role
from tests.support.fake_platform import Recorded, Reply, envelope
from tests.support.hub import HubUnderTest

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}
TOKEN = {
    "country_code": "NL", "party_id": "EMA", "uid": "U1", "type": "RFID",
    "contract_id": "NL-EMA-C1", "issuer": "eMSP", "valid": True, "whitelist": "ALWAYS",
    "last_updated": "2024-01-01T00:00:00Z",
}  # fmt: skip


def redrive(hub: HubUnderTest, message: str) -> httpx.Response:
    return httpx.post(f"{hub.url}/admin/messages/{message}/redrive", headers=ADMIN, timeout=10)


def test_a_push_the_receiver_failed_is_sent_again_as_a_new_message_naming_the_first(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    answers = [Reply(500, b"<html>down</html>"), Reply(200, envelope())]
    cpo.platform.on("PUT", "/", lambda _: answers.pop(0))
    path = f"/{emsp.party.country_code}/{emsp.party.party_id}/U1"
    first = emsp.call("PUT", "tokens", "receiver", path, to=cpo.party, body=TOKEN, request_id="p1")
    assert first.status_code == 500
    original = str(message_id(str(emsp.connection_id), "p1"))

    answer = redrive(hub, original)

    assert answer.status_code == 200, answer.text
    done = answer.json()["data"]
    assert done["repeats"] == original
    assert (done["answer"]["http_status"], done["answer"]["ocpi_status"]) == (200, 1000)
    sent: list[Recorded] = cpo.platform.wait_for(2)
    assert sent[1].body == sent[0].body and sent[1].path == sent[0].path
    assert sent[1].headers["x-correlation-id"] == sent[0].headers["x-correlation-id"]
    assert sent[1].headers["x-correlation-id"] == done["correlation_id"]
    assert sent[1].headers["x-request-id"] != sent[0].headers["x-request-id"]
    assert sent[1].headers["ocpi-from-party-id"] == emsp.party.party_id

    events = hub.wait_for_events(emsp, done["request_id"], lambda n: n[-1:] == ["Responded"])
    assert [type(e).__name__ for e in events] == [
        "Received", "Routed", "Forwarded", "Answered", "Responded",
    ]  # fmt: skip
    assert events[0].retry_of == original
    assert str(events[0].originator_id) == done["message_id"]


def test_what_cannot_be_sent_again_is_refused_with_the_reason(hub: HubUnderTest) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    emsp.call("GET", "locations", "sender", to=cpo.party, request_id="g1")
    a_get = str(message_id(str(emsp.connection_id), "g1"))

    refused = redrive(hub, a_get)
    assert refused.status_code == 409
    assert "this is a GET" in refused.json()["status_message"]

    missing = redrive(hub, str(UUID(int=7)))
    assert missing.status_code == 404 and "no message" in missing.json()["status_message"]
    assert redrive(hub, "not-a-uuid").status_code == 400
    unauthorised = httpx.post(f"{hub.url}/admin/messages/{a_get}/redrive", timeout=10)
    assert unauthorised.status_code == 401
    assert len(cpo.platform.requests) == 1  # the GET itself, nothing re-sent


def test_a_suspended_sender_is_not_spoken_for(hub: HubUnderTest) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    path = f"/{emsp.party.country_code}/{emsp.party.party_id}/U1"
    emsp.call("PUT", "tokens", "receiver", path, to=cpo.party, body=TOKEN, request_id="s1")
    hub.suspend(emsp)

    refused = redrive(hub, str(message_id(str(emsp.connection_id), "s1")))

    assert refused.status_code == 409
    assert "suspended" in json.loads(refused.text)["status_message"]
    assert len(cpo.platform.requests) == 1


def test_the_cli_re_drives_a_message_and_says_what_came_back(
    hub: HubUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    path = f"/{emsp.party.country_code}/{emsp.party.party_id}/U1"
    emsp.call("PUT", "tokens", "receiver", path, to=cpo.party, body=TOKEN, request_id="c1")
    original = str(message_id(str(emsp.connection_id), "c1"))
    token = ADMIN["authorization"].removeprefix("Bearer ")

    assert main(["redrive", original, "--url", hub.url, "--token", token]) == 0
    assert "sent again as message" in capsys.readouterr().out
    assert len(cpo.platform.wait_for(2)) == 2
    assert main(["redrive", str(UUID(int=7)), "--url", hub.url, "--token", token]) == 1
    assert "HTTP 404" in capsys.readouterr().err
