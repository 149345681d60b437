"""The evidence of a real routed command and its callback: one bundle (found by the command's
correlation id), checked offline with nothing but the node's published public key."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from api.cli import main
from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from tests.support.fake_platform import Reply, envelope
from tests.support.hub import HubUnderTest
from tests.support.servers import wait_for

ADMIN = {"authorization": "Bearer hub-admin-token-0123456789"}


def test_a_command_and_its_callback_verify_offline_with_only_the_public_key(
    hub: HubUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    cpo.platform.on("POST", "/", Reply(200, envelope({"result": "ACCEPTED", "timeout": 30})))
    command = {"response_url": f"{emsp.platform.url}/ocpi/emsp/cmd/7", "location_id": "LOC1"}
    correlation = "dispute-start-session-7"
    answer = emsp.call(
        "POST", "commands", "receiver", "/START_SESSION", to=cpo.party, body=command,
        headers={"x-correlation-id": correlation},
    )  # fmt: skip
    assert answer.json()["status_code"] == 1000
    callback = json.loads(cpo.platform.wait_for(1)[0].body)["response_url"]
    relayed = cpo.call(
        "POST", "commands", "sender", to=emsp.party, body={"result": "ACCEPTED"}, url=callback
    )
    assert relayed.json()["status_code"] == 1000
    node = hub.node
    node.runners["audit"].wait(node.store.ledger.recorder.max_notification_id(), timeout=10)

    bundle = hub.client.get(
        f"{hub.url}/admin/evidence", params={"correlation_id": correlation}, headers=ADMIN
    ).json()
    key = hub.client.get(f"{hub.url}/admin/ledger/public-key", headers=ADMIN).json()["data"]
    bundle_file, key_file = tmp_path / "bundle.json", tmp_path / "hub.pem"
    bundle_file.write_text(json.dumps(bundle))
    key_file.write_text(key["public_key_pem"])

    assert [len(m["records"]) for m in bundle["messages"]] == [2, 2]  # command, callback
    assert all(m["complete"] for m in bundle["proof"]["messages"])
    assert main(["evidence", "--verify", str(bundle_file), "--public-key", str(key_file)]) == 0
    assert capsys.readouterr().out.startswith("OK: 2 messages, 4 records, 5 bodies kept")

    bundle["messages"].pop()  # the callback, the part a party in a dispute might rather hide
    bundle_file.write_text(json.dumps(bundle))
    assert main(["evidence", "--verify", str(bundle_file), "--public-key", str(key_file)]) == 3
    assert "message_missing" in capsys.readouterr().out


def test_a_running_node_checkpoints_into_its_sink_only_when_a_chain_moved(
    database_url: DatabaseUrl, tmp_path: Path
) -> None:
    sink = tmp_path / "checkpoints.jsonl"

    def sent() -> list[dict]:
        return [json.loads(line) for line in sink.read_text().splitlines()] if sink.exists() else []

    with HubUnderTest(database_url, checkpoint_interval=0.2, checkpoint_sink=str(sink)) as hub:
        emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
        assert emsp.call("GET", "locations", "sender", to=cpo.party).json()["status_code"] == 1000
        head = hub.node.services.ledger_archive.head().position
        wait_for(lambda: any(c["chains"]["ledger"]["position"] == head for c in sent()))
        time.sleep(0.6)  # three more rounds, and nothing moved
        last = sent()[-1]["chains"]
        assert last["ledger"]["position"] == head
        assert [c["chains"] for c in sent()].count(last) == 1


def test_an_operator_saves_a_checkpoint_and_the_key_and_verifies_against_them_later(
    hub: HubUnderTest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emsp, cpo = hub.connect(Role.EMSP), hub.connect(Role.CPO)
    assert emsp.call("GET", "locations", "sender", to=cpo.party).json()["status_code"] == 1000
    hub.node.committer.flush()
    node = ["--url", hub.url, "--token", ADMIN["authorization"].split()[1]]
    checkpoint, key = tmp_path / "cp.json", tmp_path / "hub.pem"

    assert main(["checkpoint", "-o", str(checkpoint), *node]) == 0
    assert main(["public-key", "-o", str(key), *node]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "ledger at 2" in out and "Ed25519 key" in out

    assert main(["verify", "--checkpoint", str(checkpoint), "--public-key", str(key), *node]) == 0
    assert "signature valid" in capsys.readouterr().out
    saved = json.loads(checkpoint.read_text())
    saved["chains"]["ledger"]["position"] = 6  # a checkpoint someone "improved"
    checkpoint.write_text(json.dumps(saved))
    assert main(["verify", "--checkpoint", str(checkpoint), "--public-key", str(key), *node]) == 1
    assert "does not verify" in capsys.readouterr().err
