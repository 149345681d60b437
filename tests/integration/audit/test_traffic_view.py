"""Traffic per party on both stores: hour and day buckets, errors, percentiles, rebuilds."""

from datetime import UTC, datetime, timedelta

from application.traffic import TrafficQuery
from infrastructure.store import Store
from tests.audit_support import Leg, record, routed, traffic_view

T0 = datetime(2024, 3, 1, 23, 59, 30, tzinfo=UTC)  # 30 s before midnight


def fill(store: Store) -> None:
    record(
        store,
        routed("a", when=T0, latency_ms=40, legs=[Leg("DE*EMS", "conn-ems", latency_ms=10)]),
        routed("b", when=T0 + timedelta(seconds=10), latency_ms=80,
               legs=[Leg("DE*EMS", "conn-ems", latency_ms=50)]),
        routed("c", when=T0 + timedelta(minutes=1), latency_ms=5000,
               legs=[Leg("DE*EMS", "conn-ems", failure="timeout", latency_ms=4000)],
               respond=(200, 4002)),
        routed("d", when=T0 + timedelta(minutes=2), receiver="XX*NOP",
               refuse=(200, 4001, "unknown receiver")),
    )  # fmt: skip


def report(store: Store, **query: object) -> dict:
    view, runner = traffic_view(store)
    runner.run_until_caught_up()
    return view.report(TrafficQuery(**query))  # type: ignore[arg-type]


def test_hour_buckets_split_at_the_hour_and_count_errors_and_latency(store: Store) -> None:
    fill(store)
    data = report(store, party="NL*CPO", granularity="hour")
    sent = [s for s in data["series"] if s["direction"] == "sent"]
    assert [(s["bucket"], s["counterpart"], s["count"], s["errors"]) for s in sent] == [
        ("2024-03-01T23:00:00.000Z", "DE*EMS", 2, 0),
        ("2024-03-02T00:00:00.000Z", "DE*EMS", 1, 1),
        ("2024-03-02T00:00:00.000Z", "XX*NOP", 1, 1),
    ]
    first = sent[0]
    assert first["bytes_out"] == 2 * len(b'{"id":"LOC1"}')
    assert first["latency_ms"]["mean"] == 60
    assert 40 / 1.1 < first["latency_ms"]["p50"] < 40 * 1.1
    assert 80 / 1.1 < first["latency_ms"]["p99"] < 80 * 1.1


def test_day_buckets_and_the_receivers_side(store: Store) -> None:
    fill(store)
    data = report(store, party="DE*EMS", granularity="day")
    assert [(s["bucket"], s["direction"], s["count"], s["outcomes"]) for s in data["series"]] == [
        ("2024-03-01T00:00:00.000Z", "received", 2, {"success": 2}),
        ("2024-03-02T00:00:00.000Z", "received", 1, {"failed": 1}),
    ]
    (total,) = data["totals"]
    assert total["count"] == 3 and total["error_rate"] == round(1 / 3, 4)
    assert data["last_seen"] == [
        {"party": "DE*EMS", "last_sent": None, "last_received": "2024-03-02T00:00:30.000Z"}
    ]


def test_time_ranges_and_top_talkers(store: Store) -> None:
    fill(store)
    record(store, routed("e", sender="DE*EMS", receiver="NL*CPO", when=T0,
                         legs=[Leg("NL*CPO", "conn-cpo")]))  # fmt: skip
    data = report(store, granularity="hour", since=T0 + timedelta(minutes=1))
    assert {s["bucket"] for s in data["series"]} == {"2024-03-02T00:00:00.000Z"}
    everything = report(store, granularity="day")
    assert everything["top_talkers"][0] == {"party": "NL*CPO", "sent": 4, "bytes_out": 4 * 13}
    assert everything["top_talkers"][1]["party"] == "DE*EMS"


def test_the_rebuilt_traffic_view_equals_the_live_one(store: Store) -> None:
    fill(store)
    view, live = traffic_view(store)
    live.batch_size = 4  # messages span batches: in-flight state must survive between them
    live.run_until_caught_up()
    before = (
        view.report(TrafficQuery(granularity="hour")),
        view.report(TrafficQuery(granularity="day")),
    )
    view.reset()
    assert view.report(TrafficQuery())["series"] == []
    _, rebuild = traffic_view(store)
    rebuild.run_until_caught_up()
    after = (
        view.report(TrafficQuery(granularity="hour")),
        view.report(TrafficQuery(granularity="day")),
    )
    assert after == before
    assert store.ledger_db.query("SELECT COUNT(*) AS n FROM traffic_pending")[0]["n"] == 0
