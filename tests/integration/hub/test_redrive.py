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

    hub.node.committer.flush()
    hub.node.runners["audit"].wait(hub.node.ledger.recorder.max_notification_id(), timeout=10)
    search = ["--party", str(emsp.party), "--module", "tokens", "--dry-run"]
    assert main(["redrive", *search, "--url", hub.url, "--token", token]) == 0
    assert "2 matched, would re-drive 2" in capsys.readouterr().out  # the push and its re-drive
    assert len(cpo.platform.requests) == 2


def test_a_search_re_drives_what_it_finds_oldest_first_and_a_dry_run_only_lists_it(
    hub: HubUnderTest,
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    answers = [Reply(500), Reply(500), Reply(200, envelope()), Reply(200, envelope())]
    cpo.platform.on("PUT", "/", lambda _: answers.pop(0))
    prefix = f"/{emsp.party.country_code}/{emsp.party.party_id}"
    for uid in ("U1", "U2"):
        emsp.call("PUT", "tokens", "receiver", f"{prefix}/{uid}", to=cpo.party, body=TOKEN)
    hub.node.committer.flush()
    hub.node.runners["audit"].wait(hub.node.ledger.recorder.max_notification_id(), timeout=10)
    search = {"party": str(emsp.party), "outcome": "error"}
    url = f"{hub.url}/admin/messages/redrive"

    listed = httpx.post(url, params={**search, "dry_run": "true"}, headers=ADMIN, timeout=10)
    assert listed.status_code == 200, listed.text
    assert [r["result"] for r in listed.json()["data"]["results"]] == ["would_redrive"] * 2
    assert len(cpo.platform.requests) == 2

    done = httpx.post(url, params=search, headers=ADMIN, timeout=10).json()["data"]
    assert [r["result"] for r in done["results"]] == ["redriven"] * 2
    assert [r["answer"]["ocpi_status"] for r in done["results"]] == [1000, 1000]
    sent = cpo.platform.wait_for(4)
    assert [r.path.rsplit("/", 1)[-1] for r in sent] == ["U1", "U2", "U1", "U2"]

    unbounded = httpx.post(url, headers=ADMIN, timeout=10)
    assert unbounded.status_code == 400 and "narrow the search" in unbounded.text
