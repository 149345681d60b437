"""The offline CLI commands on both stores: verify and rebuild against the database, and
checking a saved evidence bundle without any node."""

import json
from pathlib import Path

import pytest

from api.cli import main
from infrastructure.database_url import DatabaseUrl
from infrastructure.store import Store
from tests.audit_support import audit_view, evidence_bundle, record, routed


def url_of(database_url: DatabaseUrl) -> str:
    if not database_url.is_postgres:
        return f"sqlite:///{database_url.sqlite_path}"
    return (
        f"postgresql://{database_url.user}@{database_url.host}:{database_url.port}/"
        f"{database_url.dbname}?schema={database_url.schema}"
    )


def test_verify_runs_offline_and_exits_3_on_tampering(
    store: Store, database_url: DatabaseUrl, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store, routed("v1"), routed("v2"))
    assert main(["verify", "--database-url", url_of(database_url)]) == 0
    assert capsys.readouterr().out.startswith("OK: 4 records")
    with store.ledger_db.transaction() as cursor:
        cursor.execute("UPDATE message_bodies SET body = %s", (b"forged",))
    assert main(["verify", "--database-url", url_of(database_url), "--json"]) == 3
    report = json.loads(capsys.readouterr().out)
    assert report["first_problem"]["kind"] == "body_altered"


def test_rebuild_runs_offline_with_progress(
    store: Store, database_url: DatabaseUrl, capsys: pytest.CaptureFixture[str]
) -> None:
    record(store, routed("r1"), routed("r2"))
    _view, runner = audit_view(store)
    runner.run_until_caught_up()
    before = store.ledger_db.query("SELECT * FROM audit_messages ORDER BY id")
    assert main(["rebuild", "audit", "--database-url", url_of(database_url)]) == 0
    output = capsys.readouterr()
    assert "rebuilding audit: 4/4 (100%)" in output.err
    assert store.ledger_db.query("SELECT * FROM audit_messages ORDER BY id") == before


def test_a_saved_bundle_is_checked_without_a_node(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = routed("e1")
    record(store, sent)
    bundle = evidence_bundle(store, [sent.id])
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    assert main(["evidence", "--verify", str(path)]) == 0
    assert capsys.readouterr().out.startswith("OK: 1 messages, 2 records")
    bundle["messages"][0]["records"][0]["originator_version"] = 2
    path.write_text(json.dumps(bundle))
    assert main(["evidence", "--verify", str(path)]) == 3
    assert "record_altered" in capsys.readouterr().out
