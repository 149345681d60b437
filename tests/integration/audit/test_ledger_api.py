"""The ledger's integrity API in process on both stores: public key, checkpoints taken on
demand, the latest with whether it still holds, and verify against a checkpoint."""

from fastapi.testclient import TestClient

from application.signing import load_public_key, signature_problem
from tests.integration.audit.test_admin_audit_api import AUTH, client, data

__all__ = ["client"]


def test_checkpoints_are_signed_by_the_published_key_and_verify_against_the_chains(
    client: TestClient,
) -> None:
    for path in ("/admin/ledger/public-key", "/admin/ledger/checkpoints/latest"):
        assert client.get(path).status_code == 401
    assert client.post("/admin/ledger/checkpoints").status_code == 401

    published = data(client.get("/admin/ledger/public-key", headers=AUTH))
    assert published["algorithm"] == "Ed25519"
    key = load_public_key(published["public_key_pem"])

    checkpoint = data(client.post("/admin/ledger/checkpoints", headers=AUTH))
    assert checkpoint["key_id"] == published["key_id"]
    assert signature_problem(checkpoint, key) is None
    assert checkpoint["chains"]["ledger"]["position"] == 4  # the fixture's two messages

    latest = data(client.get("/admin/ledger/checkpoints/latest", headers=AUTH))
    assert latest["checkpoint"] == checkpoint and latest["holds"] is True
    listed = data(client.get("/admin/ledger/checkpoints", headers=AUTH))["checkpoints"]
    assert listed[0] == checkpoint

    report = data(
        client.post("/admin/ledger/verify", json={"checkpoint": checkpoint}, headers=AUTH)
    )
    assert report["ok"] and report["checkpoint"]["signature"] == "valid"
    assert set(report["chains"]) == {"ledger", "registry"}

    checkpoint["chains"]["ledger"]["position"] = 11
    report = data(
        client.post("/admin/ledger/verify", json={"checkpoint": checkpoint}, headers=AUTH)
    )
    assert not report["ok"]
    assert [p["kind"] for p in report["problems"]] == ["checkpoint_signature", "truncated"]
