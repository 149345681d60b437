"""What each console page shows, as plain data built from the node's read models.

Pure functions over what the projections and use cases return (the routing table description,
traffic bucket rows, a message timeline, projection progress, a ledger verification report), so
every page's content is unit-tested without a browser, a server or a database.

Above 500 lines: one small pure function per page section; splitting them by page would scatter
the shared formatting (durations, outcomes, party names) they all use.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from application.audit import from_epoch_us, is_success
from application.checkpoints import Checkpoints, latest_checkpoint_status
from application.traffic import summarise
from domain.signed import covers

# ---- overview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficWindow:
    label: str
    messages: int
    errors: int

    @property
    def error_rate(self) -> float:
        return round(self.errors / self.messages, 4) if self.messages else 0.0


@dataclass(frozen=True)
class ProjectionLag:
    name: str
    position: int
    head: int
    error: str | None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)


@dataclass(frozen=True)
class LedgerStatus:
    """The last verification of the hash chain (None on the overview until one ran)."""

    ok: bool
    checked_at: str
    summary: str


@dataclass(frozen=True)
class SignedCheckpoint:
    position: int
    hash: str
    signed_at: str
    key_id: str
    holds: bool = True
    """Whether the ledger still reaches this checkpoint with the same hash (a cheap check of
    the chain heads and the signature, not a full verify)."""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overview:
    connections_by_status: dict[str, int]
    parties_by_status: dict[str, int]
    windows: list[TrafficWindow]
    projections: list[ProjectionLag]
    ledger: LedgerStatus | None
    checkpoint: SignedCheckpoint | None


def latest_signed_checkpoint(checkpoints: Checkpoints | None) -> SignedCheckpoint | None:
    """The newest signed checkpoint of the message ledger's chain, for the overview, and
    whether the chains still hold what it says."""
    if checkpoints is None:
        return None
    status = latest_checkpoint_status(checkpoints)
    document = status["checkpoint"]
    covered = covers(document, "ledger") if document else None
    if document is None or covered is None:
        return None
    position, head_hash = covered
    return SignedCheckpoint(
        position=position,
        hash=head_hash,
        signed_at=str(document.get("taken_at", "")),
        key_id=str(document.get("key_id", "")),
        holds=bool(status["holds"]),
        problems=tuple(status["problems"]),
    )


def requests_of(rows: Iterable[Mapping[str, Any]]) -> TrafficWindow:
    """Requests counted once each, by their sender ("sent" rows), and how many went wrong."""
    sent = [row for row in rows if row["direction"] == "sent"]
    totals = summarise(sent, ("direction",))
    if not totals:
        return TrafficWindow("", 0, 0)
    return TrafficWindow("", totals[0]["count"], totals[0]["errors"])


def overview(
    table: Mapping[str, Any],
    windows: Sequence[tuple[str, Iterable[Mapping[str, Any]]]],
    progress: Iterable[Mapping[str, Any]],
    ledger: LedgerStatus | None,
    checkpoint: SignedCheckpoint | None,
) -> Overview:
    """`table` as `application.time_travel.describe` gives it; `windows` (label, traffic rows)."""
    connections = Counter(
        "UNREGISTERED" if c["unregistered"] else c["status"] for c in table["connections"]
    )
    parties: Counter[str] = Counter()
    for party in table["parties"]:
        statuses = {route["status"] for route in party["routes"]}
        parties["CONNECTED" if party["routable"] else min(statuses, default="NO ROUTE")] += 1
    return Overview(
        connections_by_status=dict(sorted(connections.items())),
        parties_by_status=dict(sorted(parties.items())),
        windows=[
            TrafficWindow(label, counted.messages, counted.errors)
            for label, rows in windows
            for counted in [requests_of(rows)]
        ],
        projections=[
            ProjectionLag(p["name"], int(p["position"]), int(p["head"]), p.get("error"))
            for p in progress
        ],
        ledger=ledger,
        checkpoint=checkpoint,
    )


def ledger_status(report: Mapping[str, Any], checked_at: str) -> LedgerStatus:
    """From `VerificationReport.as_dict()`."""
    ok = bool(report.get("ok"))
    if ok:
        summary = (
            f"chain intact: {report['records']} records, {report['bodies_checked']} bodies "
            f"checked; head {report['head_position']} {str(report['head_hash'])[:16]}…"
        )
    else:
        first = report.get("first_problem") or {}
        more = "+" if report.get("problems_truncated") else ""
        summary = (
            f"{len(report.get('problems') or [])}{more} problem(s); first: "
            f"{first.get('kind')} at position {first.get('position')}: {first.get('detail')}"
        )
    return LedgerStatus(ok, checked_at, summary)


# ---- traffic -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficFilters:
    party: str | None = None
    counterpart: str | None = None
    module: str | None = None
    direction: str | None = None
    bucket: str = "hour"

    def keep(self, row: Mapping[str, Any]) -> bool:
        return all(
            wanted is None or row[name] == wanted
            for name, wanted in (
                ("counterpart", self.counterpart),
                ("module", self.module),
                ("direction", self.direction),
            )
        )


@dataclass(frozen=True)
class TrafficRow:
    label: str
    messages: int
    errors: int
    error_rate: float
    p50: float | None
    p95: float | None
    p99: float | None
    bytes: int
    link: str | None = None


@dataclass(frozen=True)
class TrafficPage:
    filters: TrafficFilters
    buckets: list[TrafficRow]
    chart: dict[str, list[Any]]
    counterparts: list[TrafficRow]
    top_talkers: list[TrafficRow]
    modules: list[str]
    parties: list[str]


def _traffic_row(item: Mapping[str, Any], label: str, link: str | None = None) -> TrafficRow:
    latency = item["latency_ms"]
    return TrafficRow(
        label=label,
        messages=item["count"],
        errors=item["errors"],
        error_rate=item["error_rate"],
        p50=latency["p50"],
        p95=latency["p95"],
        p99=latency["p99"],
        bytes=item["bytes_in"] + item["bytes_out"],
        link=link,
    )


def traffic_link(**params: str | None) -> str:
    return "/console/traffic?" + urlencode({k: v for k, v in params.items() if v})


def chart_series(
    per_bucket: Sequence[TrafficRow], starts_us: Sequence[int], span_us: tuple[int, int, int]
) -> dict[str, list[Any]]:
    """Columns for the charts, one point per bucket of the range (start, end, size in µs):
    buckets without traffic count zero, and have no error rate or latency (a gap)."""
    start, end, size = span_us
    found = dict(zip(starts_us, per_bucket, strict=True))
    first = start - start % size
    chart: dict[str, list[Any]] = {
        name: [] for name in ("time", "messages", "error_rate", "p50", "p95", "p99", "bytes")
    }
    for moment in range(first, max(end, first + size), size):
        row = found.get(moment)
        chart["time"].append(moment // 1_000_000)
        chart["messages"].append(row.messages if row else 0)
        chart["error_rate"].append(round(row.error_rate * 100, 2) if row else None)
        chart["p50"].append(row.p50 if row else None)
        chart["p95"].append(row.p95 if row else None)
        chart["p99"].append(row.p99 if row else None)
        chart["bytes"].append(row.bytes if row else 0)
    return chart


def traffic_page(
    rows: Sequence[Mapping[str, Any]], filters: TrafficFilters, span_us: tuple[int, int, int]
) -> TrafficPage:
    """`rows`: traffic bucket rows (`SqlTrafficView.rows`), already limited to the party and
    the time range (`span_us`: start, end, bucket size); the other filters apply here, so
    percentiles come from merged histograms, never from averaged percentiles."""
    kept = [row for row in rows if filters.keep(row)]
    per_bucket = summarise(kept, ("bucket_start",))
    buckets = [_traffic_row(item, from_epoch_us(int(item["bucket_start"]))) for item in per_bucket]
    starts = [int(item["bucket_start"]) for item in per_bucket]
    chart = chart_series(buckets, starts, span_us)
    counterparts = []
    if filters.party:
        counterparts = [
            _traffic_row(
                item,
                f"{item['counterpart']} ({item['direction']})",
                traffic_link(party=item["counterpart"], bucket=filters.bucket),
            )
            for item in summarise(kept, ("counterpart", "direction"))
        ]
    sent = [row for row in kept if row["direction"] == "sent"]
    talkers = sorted(summarise(sent, ("party",)), key=lambda i: (-i["count"], i["party"]))[:10]
    return TrafficPage(
        filters=filters,
        buckets=buckets,
        chart=chart,
        counterparts=counterparts,
        top_talkers=[
            _traffic_row(i, i["party"], traffic_link(party=i["party"], bucket=filters.bucket))
            for i in talkers
        ],
        modules=sorted({row["module"] for row in rows if row["module"]}),
        parties=sorted({row["party"] for row in rows} | {row["counterpart"] for row in rows}),
    )


@dataclass(frozen=True)
class ErrorRateJump:
    party: str
    before: float
    now: float
    messages_now: int

    @property
    def change(self) -> float:
        return round(self.now - self.before, 4)


def error_rate_jumps(
    earlier: Iterable[Mapping[str, Any]], recent: Iterable[Mapping[str, Any]]
) -> list[ErrorRateJump]:
    """Each party's error rate on the requests it sent, in the recent period against the
    earlier one, the biggest rise first: "which partner's error rate jumped this week"."""
    rate_before = {
        item["party"]: item["error_rate"]
        for item in summarise([r for r in earlier if r["direction"] == "sent"], ("party",))
    }
    jumps = [
        ErrorRateJump(
            item["party"], rate_before.get(item["party"], 0.0), item["error_rate"], item["count"]
        )
        for item in summarise([r for r in recent if r["direction"] == "sent"], ("party",))
    ]
    return sorted(jumps, key=lambda jump: (-jump.change, jump.party))


# ---- messages ----------------------------------------------------------------------------

SEARCH_FIELDS = (
    "party", "counterpart", "direction", "connection", "module", "object_id", "request_id",
    "correlation_id", "since", "until", "status", "outcome",
)  # fmt: skip


@dataclass(frozen=True)
class Pager:
    total: int
    offset: int
    limit: int
    shown: int
    previous: str | None
    next: str | None
    exact: bool = True
    """False when `total` is an estimate (past the audit view's exact-count cap)."""

    @property
    def first(self) -> int:
        return self.offset + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.offset + self.shown


def pager(
    params: Mapping[str, str], total: int, offset: int, limit: int, shown: int, exact: bool = True
) -> Pager:
    """Previous/next links that keep every filter of the search."""
    kept = {k: v for k, v in params.items() if k in SEARCH_FIELDS and v}

    def link(at: int) -> str:
        return "/console/messages?" + urlencode({**kept, "offset": at, "limit": limit})

    return Pager(
        total=total,
        offset=offset,
        limit=limit,
        shown=shown,
        previous=link(max(0, offset - limit)) if offset > 0 else None,
        next=link(offset + limit) if offset + shown < total else None,
        exact=exact,
    )


def pretty_body(body: Mapping[str, Any] | None) -> str:
    """A body as people read it: indented JSON when it is JSON, else as stored."""
    if body is None:
        return "(no body)"
    status = body.get("status")
    if status != "kept":
        return f"({status}: sha256 {body.get('sha256')})"
    if "text" not in body:
        return f"(binary, base64)\n{body.get('base64', '')}"
    text = str(body["text"])
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@dataclass(frozen=True)
class Hop:
    """One step a message took, with the headers sent or received there (no tokens)."""

    title: str
    at: str
    detail: str
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class MessagePage:
    id: str
    summary: Mapping[str, Any]
    hops: list[Hop]
    request_body: str
    answer_bodies: list[tuple[str, str]]
    response_body: str
    related: list[Mapping[str, Any]] = field(default_factory=list)
    retry_of: str | None = None
    evidence_link: str = ""
    translations: list[TranslationReport] = field(default_factory=list)


@dataclass(frozen=True)
class TranslationReport:
    """One leg or answer translated between OCPI versions, and what that changed."""

    label: str
    source_version: str
    target_version: str
    losses: list[dict[str, str]]
    refused: str = ""


def translation_reports(legs: Sequence[Mapping[str, Any]]) -> list[TranslationReport]:
    reports = []
    for leg in legs:
        target = leg.get("target_party") or "?"
        result = leg.get("result") or {}
        for label, record in (
            (f"leg {leg.get('leg')} to {target}", leg.get("translation")),
            (f"answer on leg {leg.get('leg')} from {target}", result.get("translation")),
        ):
            if not record:
                continue
            losses = [
                {
                    "path": str(loss.get("path")),
                    "kind": str(loss.get("kind")),
                    "source_value": json.dumps(loss.get("source_value")),
                    "target_value": json.dumps(loss.get("target_value")),
                }
                for loss in record.get("losses") or []
            ]
            reports.append(
                TranslationReport(
                    label,
                    str(record.get("source_version", "?")),
                    str(record.get("target_version", "?")),
                    losses,
                    str(record.get("refused") or ""),
                )
            )
    return reports


def _translated(data: Mapping[str, Any]) -> str:
    record = data.get("translation")
    if not record:
        return ""
    losses = len(record.get("losses") or [])
    return (
        f"; translated OCPI {record.get('source_version')} → {record.get('target_version')},"
        f" {losses} loss(es)"
    )


def _shown(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _hop_detail(data: Mapping[str, Any], names: Sequence[str]) -> str:
    return ", ".join(
        f"{name} {_shown(data[name])}" for name in names if data.get(name) not in (None, "")
    )


def with_recorded_outcome(
    summary: Mapping[str, Any], response: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The summary, with the outcome the ledger already holds while the audit view, which
    follows the ledger in batches, still says pending."""
    if not response or summary.get("outcome") not in (None, "pending", "unknown"):
        return summary
    http_status, ocpi_status = response.get("http_status"), response.get("ocpi_status")
    if response.get("kind") == "refused":
        outcome = "refused"
    else:
        outcome = "success" if is_success(http_status, ocpi_status) else "error"
    return {
        **summary,
        "outcome": outcome,
        "http_status": http_status,
        "ocpi_status": ocpi_status,
        "latency_ms": response.get("latency_ms"),
    }


def message_page(
    timeline: Mapping[str, Any],
    summary: Mapping[str, Any],
    related: Sequence[Mapping[str, Any]] = (),
) -> MessagePage:
    """`timeline` as `application.timeline.message_timeline` gives it; `related`: audit rows of
    the other messages with the same correlation id (retries, callbacks, the answers' pushes)."""
    hops: list[Hop] = []
    for step in timeline["events"]:
        data = step["data"]
        name = step["event"]
        detail = {
            "Received": _hop_detail(data, ("method", "path", "from_party", "to_party")),
            "Routed": _hop_detail(data, ("classification", "reason", "targets")),
            "Forwarded": _hop_detail(data, ("leg", "target_party", "url")) + _translated(data),
            "Answered": _hop_detail(data, ("leg", "http_status", "ocpi_status", "latency_ms"))
            + _translated(data),
            "Failed": _hop_detail(data, ("leg", "status_code", "reason")),
            "Responded": _hop_detail(data, ("http_status", "ocpi_status", "latency_ms"))
            + _translated(data),
            "Refused": _hop_detail(data, ("http_status", "ocpi_status", "reason")),
        }.get(name, "")
        hops.append(
            Hop(
                title=name,
                at=f"{step['at']} (+{step['offset_ms']} ms)",
                detail=detail,
                headers=dict(data.get("headers") or {}),
            )
        )
    answers = []
    for leg in timeline["legs"]:
        result = leg.get("result") or {}
        label = f"leg {leg.get('leg')} to {leg.get('target_party') or '?'}: {leg.get('outcome')}"
        answers.append((label, pretty_body(result.get("body"))))
    response = timeline.get("response") or {}
    summary = with_recorded_outcome(summary, response)
    correlation = summary.get("correlation_id")
    return MessagePage(
        id=timeline["id"],
        summary=summary,
        hops=hops,
        request_body=pretty_body(timeline["request"].get("body")),
        answer_bodies=answers,
        response_body=pretty_body(response.get("body")) if response else "(no response yet)",
        related=[row for row in related if row["id"] != timeline["id"]],
        retry_of=summary.get("retry_of"),
        evidence_link=(
            "/console/evidence?" + urlencode({"correlation_id": correlation}) if correlation else ""
        ),
        translations=translation_reports(timeline["legs"]),
    )


# ---- network -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instant:
    at: str
    what: str


@dataclass(frozen=True)
class NetworkPage:
    table: Mapping[str, Any]
    instants: list[Instant]
    selected: int
    """Index into `instants` of the state shown; the last one is "now"."""

    @property
    def as_of(self) -> str:
        return self.instants[self.selected].at if self.instants else ""


def network_page(
    table: Mapping[str, Any], changes: Sequence[tuple[str, str]], selected: int | None
) -> NetworkPage:
    """`changes`: (ISO timestamp, what happened) of every registry event, oldest first; the
    slider moves over them, and past the last one is now."""
    instants = [Instant(at, what) for at, what in changes]
    last = max(0, len(instants) - 1)
    index = last if selected is None else min(max(selected, 0), last)
    return NetworkPage(table=table, instants=instants, selected=index)
