"""The audit admin API in process on both stores: behind the admin token, clear 400s."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.evidence import verify_bundle
from infrastructure.database_url import DatabaseUrl
from tests.audit_support import Leg, node_settings, record, routed

ADMIN = "admin-token-for-audit-tests"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
T0 = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def client(database_url: DatabaseUrl) -> Iterator[TestClient]:
    settings = node_settings(database_url, ADMIN)
    # Built before the node starts: freezegun stops the clock of every thread, and the node's
    # connection pools time their connects and waits by it (they stalled for good).
    messages = (
        routed("r1", when=T0, correlation_id="dispute"),
        routed("r2", when=T0 + timedelta(minutes=5), correlation_id="dispute",
               legs=[Leg("DE*EMS", "conn-ems", failure="timeout")], respond=(200, 4002)),
    )  # fmt: skip
    with TestClient(create_app(settings, announce_admin_token=lambda _t: None)) as test_client:
        node = test_client.app.state.node  # type: ignore[attr-defined]
        position = record(node.store, *messages)
        for name in ("audit", "traffic"):
            try:
                node.runners[name].wait(position, timeout=20)
            except TimeoutError:
                raise AssertionError(f"{name}: {node.runners[name].last_error}") from None
        yield test_client


def data(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status_code"] == 1000, body
    return body["data"]


def test_the_audit_api_needs_the_admin_token(client: TestClient) -> None:
    assert client.get("/admin/messages").status_code == 401
    assert (
        client.get("/admin/messages", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )


def test_messages_are_listed_filtered_and_paged(client: TestClient) -> None:
    page = data(client.get("/admin/messages", params={"limit": 1}, headers=AUTH))
    assert [m["request_id"] for m in page["messages"]] == ["r2"] and page["has_more"]
    assert page["total"] == 2 and page["total_exact"] is True
    found = data(
        client.get("/admin/messages", params={"status": "4002", "party": "nl*cpo"}, headers=AUTH)
    )
    assert [m["request_id"] for m in found["messages"]] == ["r2"]
    found = data(
        client.get("/admin/messages", params={"until": "2024-03-01T14:01:00Z"}, headers=AUTH)
    )
    assert [m["request_id"] for m in found["messages"]] == ["r1"]
    found = data(client.get("/admin/messages", params={"status": "error"}, headers=AUTH))
    assert [m["request_id"] for m in found["messages"]] == ["r2"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "yesterday"}, "since must be an ISO-8601 timestamp"),
        ({"limit": "lots"}, "limit must be an integer"),
        ({"limit": "0"}, "limit must be between 1 and 1000"),
        ({"colour": "red"}, "unknown query parameter(s): colour"),
        (
            {"since": "2024-03-02T00:00:00Z", "until": "2024-03-01T00:00:00Z"},
            "since must be before",
        ),
    ],
)
def test_bad_query_parameters_get_a_400_that_says_what_is_wrong(
    client: TestClient, params: dict, message: str
) -> None:
    response = client.get("/admin/messages", params=params, headers=AUTH)
    assert response.status_code == 400
    assert message in response.json()["status_message"]


def test_one_message_shows_its_timeline(client: TestClient) -> None:
    listed = data(client.get("/admin/messages", params={"request_id": "r2"}, headers=AUTH))
    message_id = listed["messages"][0]["id"]
    timeline = data(client.get(f"/admin/messages/{message_id}", headers=AUTH))
    assert timeline["legs"][0]["outcome"] == "failed"
    assert timeline["summary"]["outcome"] == "error"
    assert client.get("/admin/messages/not-a-uuid", headers=AUTH).status_code == 400
    missing = client.get("/admin/messages/6f1c8f4e-0000-4000-8000-000000000000", headers=AUTH)
    assert missing.status_code == 404


def test_evidence_for_a_correlation_id_verifies_on_its_own(client: TestClient) -> None:
    response = client.get("/admin/evidence", params={"correlation_id": "dispute"}, headers=AUTH)
    assert response.status_code == 200
    bundle = json.loads(response.content)
    assert [m["records"][0]["readable"]["request_id"] for m in bundle["messages"]] == ["r1", "r2"]
    assert verify_bundle(bundle)["ok"]
    assert client.get("/admin/evidence", headers=AUTH).status_code == 400
    assert (
        client.get("/admin/evidence", params={"object_id": "NOPE"}, headers=AUTH).status_code == 404
    )


def test_traffic_routing_table_verify_and_rebuild(client: TestClient) -> None:
    traffic = data(
        client.get("/admin/traffic", params={"party": "NL*CPO", "bucket": "day"}, headers=AUTH)
    )
    assert traffic["totals"][0]["count"] == 2
    assert client.get("/admin/traffic", params={"bucket": "week"}, headers=AUTH).status_code == 400
    node = client.app.state.node  # type: ignore[attr-defined]
    # Not under freezegun: the node's threads are running (see the client fixture).
    node.store.registry.invite("a peer")
    now = datetime.now(UTC)
    after = (now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # naive: taken as UTC
    table = data(client.get("/admin/routing-table", params={"as_of": after}, headers=AUTH))
    assert [c["label"] for c in table["connections"]] == ["a peer"]
    assert table["registry_chain"]["position"] == 1  # the invitation, the one record replayed
    earlier = data(client.get("/admin/routing-table", params={"as_of": before}, headers=AUTH))
    assert earlier["connections"] == [] and earlier["registry_chain"] is None
    report = data(client.post("/admin/ledger/verify", headers=AUTH))
    assert report["ok"] and report["records"] == 4  # two messages of two records
    before = data(client.get("/admin/messages", headers=AUTH))
    data(client.post("/admin/projections/audit/rebuild", headers=AUTH))
    deadline = time.monotonic() + 10
    while True:  # the node's runner rebuilds in the background; progress says when it is done
        progress = data(client.get("/admin/projections/audit", headers=AUTH))
        if progress["position"] >= progress["head"] or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert data(client.get("/admin/messages", headers=AUTH)) == before
    assert client.post("/admin/projections/nothing/rebuild", headers=AUTH).status_code == 400
    assert data(client.get("/admin/hub-objects/gaps", headers=AUTH)) == {"gaps": []}
    assert client.get("/admin/hub-objects/gaps").status_code == 401
    # Background loops of the node are not projections: a clear 404, not a 500.
    for name in ("nothing", "health_check"):
        answer = client.get(f"/admin/projections/{name}", headers=AUTH)
        assert answer.status_code == 404 and f"no projection {name}" in answer.text
