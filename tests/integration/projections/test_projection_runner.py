"""Projection runners on both stores: exactly once, resumable, rebuildable, shareable."""

from typing import Any

from application.projection import Projection
from application.routing_table import RoutingTableProjection
from application.tokens import hash_token
from domain.connections import Connection
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.routing_table_view import SqlRoutingTableView
from infrastructure.sql import Cursor
from infrastructure.store import Store
from infrastructure.tracked_view import SqlTrackedView


class EventLog(SqlTrackedView["EventLogWriter"]):
    """A view that keeps one row per event it saw, so duplicates and gaps are visible."""

    name = "event_log"
    tables = ("seen_events",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS seen_events (originator TEXT, version INTEGER, "
        "PRIMARY KEY (originator, version))",
    )

    def writer(self, cursor: Cursor) -> "EventLogWriter":
        return EventLogWriter(cursor)

    def rows(self) -> list[tuple[str, int]]:
        rows = self.database.query("SELECT originator, version FROM seen_events")
        return sorted((r["originator"], r["version"]) for r in rows)


class EventLogWriter:
    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    def seen(self, originator: str, version: int) -> None:
        # A plain INSERT: applying an event twice would violate the primary key.
        self.cursor.execute(
            "INSERT INTO seen_events (originator, version) VALUES (%s, %s)", (originator, version)
        )


class LogEverything(Projection[EventLogWriter]):
    name = "event_log"

    def process(self, event: Any, writer: EventLogWriter) -> None:
        writer.seen(str(event.originator_id), event.originator_version)


class CrashAfter(LogEverything):
    def __init__(self, crash_at: int) -> None:
        self.remaining = crash_at

    def process(self, event: Any, writer: EventLogWriter) -> None:
        if self.remaining == 0:
            raise RuntimeError("killed mid-batch")
        self.remaining -= 1
        super().process(event, writer)


def fill_registry(store: Store, connections: int) -> int:
    position = 0
    for i in range(connections):
        connection_id, _token, _ = store.registry.invite(f"peer {i}")
        _refused, position = store.registry.register_connection(
            connection_id,
            "2.2.1",
            f"http://p{i}/versions",
            [],
            [
                {
                    "role": "CPO",
                    "country_code": "NL",
                    "party_id": f"C{i:02d}",
                    "business_details": {"name": f"C{i}"},
                }
            ],
            hash_token(f"c{i}"),
            f"b{i}",
        )
    return position


def all_events(store: Store) -> list[tuple[str, int]]:
    notifications = store.registry.recorder.select_notifications(1, 100_000)
    return sorted((str(n.originator_id), n.originator_version) for n in notifications)


def test_a_runner_killed_mid_batch_resumes_without_loss_or_duplicates(store: Store) -> None:
    fill_registry(store, 10)
    view = EventLog(store.ledger_db)
    crashing = ProjectionRunner(store.registry, CrashAfter(crash_at=17), view, batch_size=7)
    processed = 0
    try:
        while True:
            processed += crashing.step()
    except RuntimeError:
        pass
    assert 0 < len(view.rows()) < len(all_events(store))
    # The half-applied batch rolled back: what is there is exactly the committed batches.
    assert len(view.rows()) == view.position() == 14

    fresh = ProjectionRunner(
        store.registry, LogEverything(), EventLog(store.ledger_db), batch_size=7
    )
    fresh.run_until_caught_up()
    assert view.rows() == all_events(store)


def test_two_runners_sharing_one_view_apply_every_event_exactly_once(store: Store) -> None:
    fill_registry(store, 12)
    first = ProjectionRunner(
        store.registry, LogEverything(), EventLog(store.ledger_db), batch_size=5
    )
    second = ProjectionRunner(
        store.registry, LogEverything(), EventLog(store.ledger_db), batch_size=3
    )
    while first.step() + second.step():
        pass
    assert EventLog(store.ledger_db).rows() == all_events(store)


class LogRegistrations(LogEverything):
    topics = frozenset({Connection.Registered})

    def __init__(self) -> None:
        self.types: set[str] = set()

    def process(self, event: Any, writer: EventLogWriter) -> None:
        self.types.add(type(event).__name__)
        super().process(event, writer)


def test_a_projection_that_names_its_events_gets_only_those_and_still_reads_to_the_end(
    store: Store,
) -> None:
    fill_registry(store, 5)
    projection = LogRegistrations()
    runner = ProjectionRunner(store.registry, projection, EventLog(store.ledger_db), batch_size=4)
    consumed = runner.run_until_caught_up()
    head = store.registry.recorder.max_notification_id()
    assert consumed == head and runner.position == head
    assert projection.types == {"Registered"}
    assert len(EventLog(store.ledger_db).rows()) == 5


class OvertakenOnce(EventLog):
    """A view shared with another runner, which applies the batch this one is about to apply."""

    def __init__(self, database: Any, other: ProjectionRunner) -> None:
        super().__init__(database)
        self.other: ProjectionRunner | None = other

    def apply_batch(self, projection: Any, events: Any, start: int, end: int) -> bool:
        if self.other is not None:
            self.other.step()
            self.other = None
        return super().apply_batch(projection, events, start, end)


def test_a_runner_reading_ahead_follows_another_runner_that_applied_its_batch(
    store: Store,
) -> None:
    fill_registry(store, 12)
    other = ProjectionRunner(
        store.registry, LogEverything(), EventLog(store.ledger_db), batch_size=4
    )
    view = OvertakenOnce(store.ledger_db, other)
    runner = ProjectionRunner(store.registry, LogEverything(), view, batch_size=5)
    runner.run_until_caught_up()
    assert view.rows() == all_events(store)
    assert runner.position == store.registry.recorder.max_notification_id()


def test_a_rebuilt_routing_table_equals_the_live_one(store: Store) -> None:
    fill_registry(store, 6)
    view = SqlRoutingTableView(store.registry_db)
    live = ProjectionRunner(store.registry, RoutingTableProjection(), view).start()
    try:
        first = store.registry.recorder.select_notifications(1, 1)[0].originator_id
        position = store.registry.suspend_connection(first, "audit")
        live.wait(position, timeout=5)
        before = (view.routes(), [c.__dict__ for c in view.connections()])
        assert len(before[0]) == 6
        assert "SUSPENDED" in {row["status"] for row in before[0]}
    finally:
        live.stop()
    view.reset()
    assert view.routes() == []
    ProjectionRunner(store.registry, RoutingTableProjection(), view).run_until_caught_up()
    assert (view.routes(), [c.__dict__ for c in view.connections()]) == before


def test_waiting_for_a_position_returns_as_soon_as_the_runner_applied_it(store: Store) -> None:
    import time

    view = SqlRoutingTableView(store.registry_db)
    runner = ProjectionRunner(store.registry, RoutingTableProjection(), view, poll_interval=30)
    store.registry.add_save_listener(runner.wake)
    runner.start()
    try:
        started = time.perf_counter()
        position = fill_registry(store, 1)
        runner.wait(position, timeout=5)
        assert time.perf_counter() - started < 2  # woken by the save, not by the 30 s poll
        assert [r["party_id"] for r in view.routes()] == ["C00"]
    finally:
        runner.stop()
