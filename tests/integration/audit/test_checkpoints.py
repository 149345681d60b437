"""Signed checkpoints on both stores: truncation at the end of a chain, invisible to the chain
alone, is found against a checkpoint and named from its first missing position."""

import json
from pathlib import Path

import pytest

from api.cli import main
from application.checkpoints import latest_checkpoint_status
from application.signing import Signer, public_pem
from infrastructure.checkpoints import FileSink, HttpSink, load_signer
from infrastructure.database_url import DatabaseUrl
from infrastructure.ledger_chain import LedgerArchive, verify_chains
from infrastructure.store import Store
from tests.audit_support import checkpoints_of, record, routed
from tests.integration.audit.test_cli_audit import url_of
from tests.support.fake_platform import FakePlatform


def archives(store: Store) -> list[LedgerArchive]:
    return [LedgerArchive(store.ledger_db), LedgerArchive(store.registry_db, "registry")]


def truncate_last_message(store: Store, message_id: str) -> None:
    """What a careful forger does: the message's events and their chain links, nothing else."""
    postgres = store.ledger_db.dialect == "postgres"
    table = "ledger_events" if postgres else "stored_events"
    with store.ledger_db.transaction() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE originator_id = %s",
            (message_id if postgres else message_id.replace("-", ""),),
        )
        cursor.execute("DELETE FROM ledger_chain WHERE originator_id = %s", (message_id,))


def test_records_removed_at_the_end_with_their_links_fail_against_a_checkpoint(
    store: Store,
) -> None:
    record(store, routed("t1"), routed("t2"))
    last = routed("t3")
    record(store, last)
    checkpoint = checkpoints_of(store).take()
    assert checkpoint["chains"]["ledger"] == {
        "position": 6, "head_hash": checkpoint["chains"]["ledger"]["head_hash"], "records": 6
    }  # fmt: skip
    truncate_last_message(store, last.id)

    alone = verify_chains(archives(store))
    assert alone["ok"] and alone["head_position"] == 4  # the hole: a shorter chain verifies

    signer = load_signer(None, store.registry_db)
    report = verify_chains(archives(store), checkpoint=checkpoint, public_key=signer.public_key)
    assert not report["ok"]
    assert report["checkpoint"]["signature"] == "valid"
    problem = report["first_problem"]
    assert problem["kind"] == "truncated" and problem["chain"] == "ledger"
    assert problem["position"] == 5
    assert "positions 5..6 are missing" in problem["detail"]


def test_a_chain_rewritten_after_a_checkpoint_diverges_from_it(store: Store) -> None:
    record(store, routed("d1"))
    last = routed("d2")
    record(store, last)
    checkpoint = checkpoints_of(store).take()
    truncate_last_message(store, last.id)
    record(store, routed("d2-forged"))  # as long as before, other records
    report = verify_chains(archives(store), checkpoint=checkpoint)
    assert report["first_problem"]["kind"] == "diverged"
    assert report["first_problem"]["position"] == 4
    assert report["checkpoint"]["signature"].startswith("not checked")


def test_an_altered_or_foreign_checkpoint_does_not_verify(store: Store) -> None:
    record(store, routed("s1"))
    service = checkpoints_of(store)
    checkpoint = service.take()
    key = service.signer.public_key
    altered = json.loads(json.dumps(checkpoint))
    altered["chains"]["ledger"]["position"] = 4
    report = verify_chains(archives(store), checkpoint=altered, public_key=key)
    assert report["first_problem"]["kind"] == "checkpoint_signature"

    stranger = Signer.generate()
    forged = stranger.sign({k: v for k, v in altered.items() if k != "signature"})
    report = verify_chains(archives(store), checkpoint=forged, public_key=key)
    assert report["checkpoint"]["signature"] == "INVALID"
    assert "not by the expected key" in report["first_problem"]["detail"]


def test_periodic_checkpoints_are_taken_only_when_a_chain_moved(store: Store) -> None:
    service = checkpoints_of(store)
    first = service.take(only_if_moved=True)
    assert first is not None and first["chains"]["ledger"]["position"] == 0
    assert service.take(only_if_moved=True) is None
    record(store, routed("p1"))
    moved = service.take(only_if_moved=True)
    assert moved is not None and moved["chains"]["ledger"]["position"] == 2
    store.registry.invite("a platform")
    assert service.take(only_if_moved=True)["chains"]["registry"]["position"] == 1
    assert [c["chains"]["ledger"]["position"] for c in service.recent(10)] == [2, 2, 0]
    assert latest_checkpoint_status(service)["holds"] is True


def test_checkpoints_reach_a_file_sink_and_an_http_sink(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.jsonl"
    record(store, routed("f1"))
    first = checkpoints_of(store, FileSink(str(path))).take()
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [first]

    platform = FakePlatform("auditor").start()
    try:
        service = checkpoints_of(store, HttpSink(f"{platform.url}/ocpi/checkpoints"))
        sent = service.take()
        (received,) = platform.wait_for(1)
        assert received.method == "POST" and received.json() == sent
    finally:
        platform.stop()

    unreachable = checkpoints_of(store, HttpSink("http://127.0.0.1:9/checkpoints"))
    unreachable.take()
    assert unreachable.sink_error is not None  # kept in the store, retried next round


def test_verify_checkpoint_on_the_command_line_names_the_first_missing_position(
    store: Store,
    database_url: DatabaseUrl,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record(store, routed("c1"))
    last = routed("c2")
    record(store, last)
    service = checkpoints_of(store)
    checkpoint_file = tmp_path / "cp.json"
    checkpoint_file.write_text(json.dumps(service.take()))
    key_file = tmp_path / "pub.pem"
    key_file.write_text(public_pem(service.signer.public_key))
    url = url_of(database_url)
    verify = ["verify", "--database-url", url, "--checkpoint", str(checkpoint_file)]
    assert main([*verify, "--public-key", str(key_file)]) == 0
    assert "signature valid" in capsys.readouterr().out

    truncate_last_message(store, last.id)
    assert main(["verify", "--database-url", url]) == 0  # the chain alone looks fine
    capsys.readouterr()
    assert main([*verify, "--public-key", str(key_file)]) == 3
    out = capsys.readouterr().out
    assert "truncated" in out and "positions 3..4 are missing" in out and "position=3" in out
