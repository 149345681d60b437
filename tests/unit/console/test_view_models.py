"""What each console page shows, from given projections: counts, rates, percentiles merged from
histograms, the chart's empty buckets, paging links, pretty bodies, hops without tokens."""

from __future__ import annotations

import json
from typing import Any

from api.console import view_models as vm
from application.traffic import encode_histogram, latency_bin

HOUR = 3_600_000_000
T0 = 1_700_000_000 * 1_000_000 // HOUR * HOUR  # an hour boundary, in µs


def bucket(
    party: str,
    counterpart: str,
    direction: str,
    outcome: str,
    count: int,
    latencies: list[float] = (),  # type: ignore[assignment]
    at: int = T0,
    module: str = "tokens",
    nbytes: int = 100,
) -> dict[str, Any]:
    histogram: dict[int, int] = {}
    for ms in latencies:
        histogram[latency_bin(ms)] = histogram.get(latency_bin(ms), 0) + 1
    return {
        "bucket_start": at, "party": party, "counterpart": counterpart, "module": module,
        "direction": direction, "outcome": outcome, "count": count, "bytes_in": nbytes,
        "bytes_out": nbytes, "histogram": encode_histogram(histogram),
        "latency_count": len(latencies), "latency_sum": float(sum(latencies)),
    }  # fmt: skip


def table(connections: list[dict[str, Any]], parties: list[dict[str, Any]]) -> dict[str, Any]:
    return {"as_of": "now", "connections": connections, "parties": parties}


def connection(status: str, unregistered: bool = False) -> dict[str, Any]:
    return {"id": status, "status": status, "unregistered": unregistered}


def party(name: str, *statuses: str) -> dict[str, Any]:
    return {
        "party": name,
        "routes": [{"status": s} for s in statuses],
        "routable": "CONNECTED" in statuses,
    }


def test_the_overview_counts_connections_and_parties_by_status() -> None:
    page = vm.overview(
        table(
            [
                connection("CONNECTED"),
                connection("CONNECTED"),
                connection("SUSPENDED"),
                connection("CONNECTED", unregistered=True),
            ],
            [
                party("NL*CPO", "CONNECTED"),
                party("NL*EMS", "SUSPENDED", "CONNECTED"),
                party("DE*EMS", "SUSPENDED"),
                party("BE*CPO"),
            ],
        ),
        [],
        [],
        None,
        None,
    )
    assert page.connections_by_status == {"CONNECTED": 2, "SUSPENDED": 1, "UNREGISTERED": 1}
    assert page.parties_by_status == {"CONNECTED": 2, "NO ROUTE": 1, "SUSPENDED": 1}


def test_the_overview_counts_each_request_once_by_its_sender_with_refusals_as_errors() -> None:
    rows = [
        bucket("NL*EMS", "NL*CPO", "sent", "success", 7),
        bucket("NL*EMS", "NL*CPO", "sent", "refused", 1),
        bucket("NL*EMS", "NL*CPO", "sent", "error", 2),
        bucket("NL*CPO", "NL*EMS", "received", "failed", 2),  # the same requests, seen by the CPO
    ]
    page = vm.overview(table([], []), [("last hour", rows), ("last day", [])], [], None, None)
    hour, day = page.windows
    assert (hour.label, hour.messages, hour.errors, hour.error_rate) == ("last hour", 10, 3, 0.3)
    assert (day.messages, day.error_rate) == (0, 0.0)


def test_projection_lag_is_how_far_a_view_is_behind_its_source() -> None:
    progress = [
        {"name": "audit", "position": 90, "head": 100, "error": None},
        {"name": "traffic", "position": 100, "head": 100, "error": "disk full"},
    ]
    page = vm.overview(table([], []), [], progress, None, None)
    assert [(p.name, p.lag, p.error) for p in page.projections] == [
        ("audit", 10, None),
        ("traffic", 0, "disk full"),
    ]


def test_no_signed_checkpoint_is_shown_while_the_node_has_no_checkpoint_facility() -> None:
    assert vm.latest_signed_checkpoint(None) is None


def test_the_ledger_status_says_intact_or_names_the_first_problem() -> None:
    intact = vm.ledger_status(
        {"ok": True, "records": 12, "bodies_checked": 4, "head_position": 12,
         "head_hash": "ab" * 32, "problems": [], "first_problem": None},
        "2024-03-01T14:00:00+00:00",
    )  # fmt: skip
    assert intact.ok and intact.summary.startswith("chain intact: 12 records, 4 bodies")
    broken = vm.ledger_status(
        {"ok": False, "problems": [{}, {}], "problems_truncated": True,
         "first_problem": {"kind": "record_altered", "position": 7, "detail": "hash differs"}},
        "2024-03-01T14:00:00+00:00",
    )  # fmt: skip
    assert not broken.ok
    assert broken.summary == "2+ problem(s); first: record_altered at position 7: hash differs"


def test_the_traffic_chart_has_a_point_per_bucket_and_empty_buckets_count_zero() -> None:
    rows = [
        bucket("NL*CPO", "NL*EMS", "received", "success", 3, [10, 10, 10], at=T0),
        bucket("NL*CPO", "NL*EMS", "received", "error", 1, [100], at=T0),
        bucket("NL*CPO", "NL*EMS", "received", "success", 2, [20, 20], at=T0 + 2 * HOUR),
    ]
    page = vm.traffic_page(rows, vm.TrafficFilters(party="NL*CPO"), (T0, T0 + 3 * HOUR, HOUR))
    chart = page.chart
    assert chart["time"] == [T0 // 1_000_000 + h * 3600 for h in range(3)]
    assert chart["messages"] == [4, 0, 2]
    assert chart["error_rate"] == [25.0, None, 0.0]
    assert chart["p50"][1] is None and chart["bytes"][1] == 0
    assert [b.messages for b in page.buckets] == [4, 2]  # the table lists buckets with traffic


def test_traffic_filters_merge_histograms_so_percentiles_stay_exact() -> None:
    fast = [1.0] * 98
    rows = [
        bucket("NL*CPO", "NL*EMS", "received", "success", 98, fast, module="tokens"),
        bucket("NL*CPO", "DE*EMS", "received", "success", 2, [800.0, 900.0], module="tokens"),
        bucket("NL*CPO", "NL*EMS", "received", "success", 5, [5000.0] * 5, module="cdrs"),
        bucket("NL*CPO", "NL*EMS", "sent", "success", 9, [5000.0] * 9, module="tokens"),
    ]
    filters = vm.TrafficFilters(party="NL*CPO", module="tokens", direction="received")
    page = vm.traffic_page(rows, filters, (T0, T0 + HOUR, HOUR))
    (only,) = page.buckets
    assert only.messages == 100
    assert only.p50 is not None and only.p50 < 1.1
    assert only.p99 is not None and 700 < only.p99 < 1000  # the DE*EMS tail, not an average
    assert [c.label for c in page.counterparts] == ["DE*EMS (received)", "NL*EMS (received)"]
    assert page.counterparts[0].link == "/console/traffic?party=DE%2AEMS&bucket=hour"
    assert page.modules == ["cdrs", "tokens"]


def test_top_talkers_are_the_parties_that_sent_the_most() -> None:
    rows = [
        bucket("NL*EMS", "NL*CPO", "sent", "success", 5),
        bucket("NL*CPO", "NL*EMS", "sent", "success", 9),
        bucket("NL*CPO", "NL*EMS", "received", "success", 50),
    ]
    page = vm.traffic_page(rows, vm.TrafficFilters(), (T0, T0 + HOUR, HOUR))
    assert [(t.label, t.messages) for t in page.top_talkers] == [("NL*CPO", 9), ("NL*EMS", 5)]
    assert page.counterparts == []  # only a party's page lists counterparts


def test_the_partner_whose_error_rate_jumped_most_comes_first() -> None:
    earlier = [
        bucket("NL*EMS", "NL*CPO", "sent", "success", 99),
        bucket("NL*EMS", "NL*CPO", "sent", "error", 1),
        bucket("DE*EMS", "NL*CPO", "sent", "error", 50),
        bucket("DE*EMS", "NL*CPO", "sent", "success", 50),
    ]
    recent = [
        bucket("NL*EMS", "NL*CPO", "sent", "success", 70),
        bucket("NL*EMS", "NL*CPO", "sent", "error", 30),
        bucket("DE*EMS", "NL*CPO", "sent", "success", 10),
        bucket("BE*EMS", "NL*CPO", "sent", "refused", 1),
        bucket("NL*CPO", "NL*EMS", "received", "failed", 30),
    ]
    jumps = vm.error_rate_jumps(earlier, recent)
    assert [(j.party, j.change) for j in jumps] == [
        ("BE*EMS", 1.0), ("NL*EMS", 0.29), ("DE*EMS", -0.5),
    ]  # fmt: skip
    assert jumps[1].messages_now == 100


def test_paging_links_keep_every_filter_and_stop_at_the_total() -> None:
    params = {"party": "NL*CPO", "since": "2024-03-01T14:00:00Z", "offset": "50", "junk": "x"}
    pager = vm.pager(params, total=120, offset=50, limit=50, shown=50)
    assert (pager.first, pager.last) == (51, 100)
    assert pager.previous == (
        "/console/messages?party=NL%2ACPO&since=2024-03-01T14%3A00%3A00Z&offset=0&limit=50"
    )
    assert pager.next is not None and "offset=100" in pager.next and "junk" not in pager.next
    last = vm.pager(params, total=120, offset=100, limit=50, shown=20)
    assert last.next is None and last.last == 120
    empty = vm.pager({}, total=0, offset=0, limit=50, shown=0)
    assert (empty.first, empty.previous, empty.next) == (0, None, None)


def test_bodies_are_pretty_printed_json_or_shown_as_stored() -> None:
    assert vm.pretty_body({"status": "kept", "text": '{"a":{"b":1}}'}) == (
        '{\n  "a": {\n    "b": 1\n  }\n}'
    )
    assert vm.pretty_body({"status": "kept", "text": "<html>down</html>"}) == "<html>down</html>"
    assert vm.pretty_body({"status": "redacted", "sha256": "ff"}) == "(redacted: sha256 ff)"
    assert vm.pretty_body(None) == "(no body)"


def timeline() -> dict[str, Any]:
    def step(event: str, offset: float, **data: Any) -> dict[str, Any]:
        return {"event": event, "at": "2024-03-01T14:00:00+00:00", "offset_ms": offset,
                "data": data}  # fmt: skip

    request = {"status": "kept", "text": json.dumps({"uid": "U1"})}
    answer = {"status": "kept", "text": json.dumps({"status_code": 2001})}
    leg = {
        "leg": 0,
        "target_party": "NL*CPO",
        "outcome": "answered",
        "result": {"http_status": 200, "body": answer},
    }
    received = step(
        "Received", 0.0, method="PUT", path="/NL/EMS/U1", from_party="NL*EMS",
        to_party="NL*CPO", headers={"x-request-id": "r1"},
    )  # fmt: skip
    forwarded = step(
        "Forwarded", 1.5, leg=0, target_party="NL*CPO", url="http://cpo/tokens",
        headers={"x-request-id": "r1-hub"},
    )  # fmt: skip
    answered = step("Answered", 40.2, leg=0, http_status=200, ocpi_status=2001, latency_ms=38.71234)
    return {
        "id": "m1",
        "request": {"body": request},
        "routing": {},
        "legs": [leg],
        "response": {"body": answer},
        "events": [received, forwarded, answered],
    }


def test_a_message_page_shows_each_hop_with_its_headers_and_the_bodies_side_by_side() -> None:
    summary = {"id": "m1", "correlation_id": "c-1", "retry_of": None}
    related = [{"id": "m1"}, {"id": "m2", "correlation_id": "c-1"}]
    page = vm.message_page(timeline(), summary, related)
    assert [h.title for h in page.hops] == ["Received", "Forwarded", "Answered"]
    assert page.hops[0].detail == "method PUT, path /NL/EMS/U1, from_party NL*EMS, to_party NL*CPO"
    assert page.hops[1].headers == {"x-request-id": "r1-hub"}
    assert page.hops[2].detail == "leg 0, http_status 200, ocpi_status 2001, latency_ms 38.7"
    assert page.request_body == '{\n  "uid": "U1"\n}'
    assert page.answer_bodies == [("leg 0 to NL*CPO: answered", '{\n  "status_code": 2001\n}')]
    assert [m["id"] for m in page.related] == ["m2"]
    assert page.evidence_link == "/console/evidence?correlation_id=c-1"


def test_the_time_slider_stops_at_every_change_and_defaults_to_now() -> None:
    changes = [("t1", "Connection.Opened a"), ("t2", "Connection.Suspended a")]
    assert vm.network_page({}, changes, None).selected == 1
    assert vm.network_page({}, changes, 0).as_of == "t1"
    assert vm.network_page({}, changes, 99).selected == 1
    assert vm.network_page({}, changes, -3).selected == 0
    assert vm.network_page({}, [], None).as_of == ""


def test_a_message_shows_the_outcome_the_ledger_holds_before_the_audit_view_catches_up() -> None:
    pending = {"id": "m1", "outcome": "pending", "correlation_id": None, "retry_of": None}
    page = vm.message_page(
        {**timeline(), "response": {"kind": "responded", "http_status": 200, "ocpi_status": 2001,
                                    "latency_ms": 40.0, "body": None}},
        pending,
    )  # fmt: skip
    assert (page.summary["outcome"], page.summary["ocpi_status"]) == ("error", 2001)
    refused = vm.message_page(
        {**timeline(), "response": {"kind": "refused", "http_status": 200, "ocpi_status": 4001}},
        pending,
    )
    assert refused.summary["outcome"] == "refused"
    settled = {**pending, "outcome": "success"}
    assert vm.message_page(timeline(), settled).summary["outcome"] == "success"
