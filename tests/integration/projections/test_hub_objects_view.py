"""The hub object store as a ledger projection, on both stores: rebuilds and redacted bodies."""

from __future__ import annotations

import json
from typing import Any

from api.cli_audit import rebuild_offline
from application.bodies import Body
from application.hub_objects import HubObjectsProjection
from application.hub_store import ObjectKey
from domain.retention import BodyRedaction
from domain.values import PartyRef
from infrastructure.hub_object_store import SqlHubObjectsView
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.store import Store
from tests.audit_support import Sent, record, routed

L1 = ObjectKey("locations", PartyRef("NL", "CPO"), "L1")


def pushed(
    request_id: str, body: bytes | None, method: str = "PUT", path: str = "/NL/CPO/L1", **kw: Any
) -> Sent:
    """A push addressed to the hub, recorded as the hub records an accepted broadcast."""
    return routed(
        request_id,
        receiver="NL*HUB",
        legs=[],
        method=method,
        path=path,
        body=body,
        classification="BROADCAST",
        **kw,
    )


def location(location_id: str, stamp: str, status: str = "AVAILABLE") -> bytes:
    document = {
        "id": location_id,
        "evses": [{"uid": "E1", "status": status, "last_updated": stamp}],
        "last_updated": stamp,
    }
    return json.dumps(document).encode()


def objects_view(store: Store) -> tuple[SqlHubObjectsView, ProjectionRunner]:
    view = SqlHubObjectsView(store.ledger_db)
    return view, ProjectionRunner(store.ledger, HubObjectsProjection(), view)


def rows(store: Store) -> list[dict[str, Any]]:
    return store.ledger_db.query(
        "SELECT * FROM hub_objects ORDER BY module, country_code, party_id, object_id, token_type"
    )


def test_the_rebuilt_hub_objects_equal_the_live_ones(store: Store) -> None:
    view, live = objects_view(store)
    live.batch_size = 3  # pushes straddle batches: Received in one, Responded in the next
    patch = b'{"status": "CHARGING", "last_updated": "2024-02-01T00:00:00Z"}'
    tariff = b'{"id": "T1", "last_updated": "2024-01-01T00:00:00Z"}'
    record(
        store,
        pushed("p1", location("L1", "2024-01-01T00:00:00Z")),
        pushed("p2", location("L2", "2024-01-02T00:00:00Z"), path="/NL/CPO/L2"),
        pushed("p3", patch, method="PATCH", path="/NL/CPO/L1/E1"),
        pushed("t1", tariff, module="tariffs", path="/NL/CPO/T1"),
        routed("direct", path="/NL/CPO/L9", body=location("L9", "2024-01-01T00:00:00Z")),
    )
    live.run_until_caught_up()
    record(
        store,
        pushed("t2", None, method="DELETE", module="tariffs", path="/NL/CPO/T1"),
        pushed("p4", location("L3", "2024-01-03T00:00:00Z"), path="/NL/CPO/L3"),
    )
    live.run_until_caught_up()
    before = rows(store)
    assert [r["object_id"] for r in before] == ["L1", "L2", "L3"]
    assert json.loads(view.get(L1) or b"{}")["evses"][0]["status"] == "CHARGING"
    assert store.ledger_db.query("SELECT * FROM hub_object_pending") == []

    view.reset()
    assert rows(store) == [] and view.page("locations", None, None, 0, 10).total == 0
    rebuild_offline(store, "hub_objects", lambda done, total: None)  # `ocpi-ledger rebuild`

    assert rows(store) == before
    assert view.page("locations", None, None, 0, 10).total == 3


def test_a_rebuild_drops_an_object_whose_last_full_push_body_was_redacted(store: Store) -> None:
    view, live = objects_view(store)
    first, second = location("L1", "2024-01-01T00:00:00Z"), location("L1", "2024-01-05T00:00:00Z")
    record(store, pushed("p1", first), pushed("p2", second))
    live.run_until_caught_up()
    assert view.get(L1) == second
    gone = Body.of(second)
    store.ledger.save(
        BodyRedaction(
            body_sha256=gone.sha256,
            size=gone.size,
            stored_at="2024-01-05T00:00:00.000Z",
            retention_days=1,
        ),
        redact_bodies=[gone.sha256],
    )
    live.run_until_caught_up()
    assert view.get(L1) == second  # the live view already applied it: redaction changes nothing

    view.reset()
    _, rebuild = objects_view(store)
    rebuild.run_until_caught_up()

    # Serving `first` would claim an outdated location is current: the object is dropped and
    # the gap says which push could not be replayed.
    assert view.get(L1) is None
    assert [(g["object_id"], g["body_sha256"]) for g in view.gaps()] == [("L1", gone.sha256)]

    third = location("L1", "2024-02-01T00:00:00Z")
    record(store, pushed("p3", third))
    rebuild.run_until_caught_up()
    assert view.get(L1) == third and view.gaps() == []


def test_rows_left_by_the_old_write_beside_store_are_cleared_before_the_first_replay(
    store: Store,
) -> None:
    _, runner = objects_view(store)
    with store.ledger_db.transaction() as cursor:
        cursor.execute(
            "INSERT INTO hub_objects (module, country_code, party_id, object_id, token_type, "
            "last_updated, document) VALUES ('locations', 'NL', 'CPO', 'OLD', '', 'x', '{}')"
        )
    record(store, pushed("p1", location("L1", "2024-01-01T00:00:00Z")))
    objects_view(store)  # a node starting on this database, the view still at position 0
    runner.run_until_caught_up()
    assert [r["object_id"] for r in rows(store)] == ["L1"]


def test_each_object_is_kept_with_the_ocpi_version_its_owner_pushed_it_in(store: Store) -> None:
    view, runner = objects_view(store)
    older = location("L1", "2024-01-01T00:00:00Z")
    newer = location("L2", "2024-01-02T00:00:00Z")
    record(store, pushed("p1", older, ocpi_version="2.1.1"))
    record(store, pushed("p2", newer, path="/NL/CPO/L2"))
    runner.run_until_caught_up()

    assert view.get_versioned(L1) == (older, "2.1.1")
    assert view.get_versioned(ObjectKey("locations", PartyRef("NL", "CPO"), "L2")) == (
        newer,
        "2.2.1",  # recorded without a version: 2.2.1, as every record before versions
    )
    assert view.page("locations", None, None, 0, 10).versions == ["2.1.1", "2.2.1"]


def test_an_objects_table_made_before_versions_gains_the_column(store: Store) -> None:
    with store.ledger_db.transaction() as cursor:
        cursor.execute("DROP TABLE IF EXISTS hub_objects")
        cursor.execute(
            "CREATE TABLE hub_objects (module TEXT NOT NULL, country_code TEXT NOT NULL, "
            "party_id TEXT NOT NULL, object_id TEXT NOT NULL, token_type TEXT NOT NULL, "
            "last_updated TEXT NOT NULL, document TEXT NOT NULL, "
            "PRIMARY KEY (module, country_code, party_id, object_id, token_type))"
        )
    view, runner = objects_view(store)
    record(store, pushed("p1", location("L1", "2024-01-01T00:00:00Z"), ocpi_version="2.3.0"))
    runner.run_until_caught_up()
    found = view.get_versioned(L1)
    assert found is not None and found[1] == "2.3.0"
