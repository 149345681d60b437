"""Per-party traffic: how much each partner sends and receives, how much fails, how slow it is.

Counted per (party, counterpart, module, direction, outcome) in hour and day buckets of the
message's receive time (UTC). `direction` is the party's side: "sent" rows are requests the party
made (outcome = what it got back, latency = end to end as it saw it), "received" rows are legs
the node forwarded to the party (outcome = its answer or the failure, latency = its answer time).

Latency is kept as a histogram with fixed log-spaced bins, so merging buckets is adding counts
and percentiles come out of the sums. Precision: 4 bins per doubling from 0.5 ms; a percentile
is reported as the bin's geometric middle, within 9.1% (2^(1/8) - 1) of any latency in the bin.
Below 0.5 ms reports 0.25 ms; above 524 s (the last edge) reports the last edge.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from application.audit import InvalidQuery, epoch_us, is_success
from application.projection import Projection
from domain.messages import RoutedMessage

GRANULARITIES = {"hour": 3_600_000_000, "day": 86_400_000_000}
ERROR_OUTCOMES = ("error", "refused", "failed")

BINS_PER_DOUBLING = 4
FIRST_EDGE_MS = 0.5
BIN_COUNT = 82  # bin 0: below 0.5 ms; bins 1..80: log-spaced; bin 81: at or above 524288 ms


def latency_bin(ms: float) -> int:
    if ms < FIRST_EDGE_MS:
        return 0
    index = 1 + math.floor(BINS_PER_DOUBLING * math.log2(ms / FIRST_EDGE_MS))
    return min(index, BIN_COUNT - 1)


def bin_value(index: int) -> float:
    """The latency a bin stands for: the geometric middle of its edges."""
    if index == 0:
        return FIRST_EDGE_MS / 2
    lower = FIRST_EDGE_MS * 2 ** ((index - 1) / BINS_PER_DOUBLING)
    if index == BIN_COUNT - 1:
        return lower
    return lower * 2 ** (0.5 / BINS_PER_DOUBLING)


def merge_histograms(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            total[int(index)] = total.get(int(index), 0) + int(count)
    return total


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """The latency below which `fraction` of the observations fall (nearest rank)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(bin_value(index), 3)
    return round(bin_value(max(histogram)), 3)


def encode_histogram(histogram: Mapping[int, int]) -> str:
    return json.dumps({str(k): v for k, v in sorted(histogram.items()) if v}, separators=(",", ":"))


def decode_histogram(text: str | None) -> dict[int, int]:
    return {int(k): int(v) for k, v in json.loads(text or "{}").items()}


def bucket_start(received_us: int, granularity: str) -> int:
    size = GRANULARITIES[granularity]
    return received_us - received_us % size


@dataclass(frozen=True)
class Observation:
    party: str
    counterpart: str
    module: str
    direction: str
    outcome: str
    received_us: int
    bytes_in: int
    bytes_out: int
    latency_ms: float | None


@dataclass(frozen=True)
class TranslationObservation:
    """One body translated between OCPI versions on its way from `party` to `counterpart`: a
    forwarded leg (the requester to the receiver) or an answer (the receiver back)."""

    party: str
    counterpart: str
    module: str
    source_version: str
    target_version: str
    losses: int
    received_us: int


def translation_of(
    record: Mapping[str, Any] | None,
    party: str,
    counterpart: str,
    module: str,
    received_us: int,
) -> TranslationObservation | None:
    if not record or "source_version" not in record:
        return None
    return TranslationObservation(
        party=party,
        counterpart=counterpart,
        module=module,
        source_version=str(record["source_version"]),
        target_version=str(record.get("target_version", "")),
        losses=len(record.get("losses") or []),
        received_us=received_us,
    )


class TrafficWriter(Protocol):
    def pending(self, message_id: str) -> dict[str, Any] | None: ...
    def put_pending(self, message_id: str, state: dict[str, Any]) -> None: ...
    def drop_pending(self, message_id: str) -> None: ...
    def observe(self, observation: Observation) -> None:
        """Count one observation in its hour and day buckets and move the party's last seen."""

    def translated(self, observation: TranslationObservation) -> None:
        """Count one translation and its losses in its hour and day buckets."""


class TrafficProjection(Projection[TrafficWriter]):
    name = "traffic"
    topics = frozenset(
        {
            RoutedMessage.Received,
            RoutedMessage.Forwarded,
            RoutedMessage.Answered,
            RoutedMessage.Failed,
            RoutedMessage.Responded,
            RoutedMessage.Refused,
        }
    )

    def process(self, event: Any, writer: TrafficWriter) -> None:
        if not isinstance(event, RoutedMessage.Event):
            return
        message_id = str(event.originator_id)
        if isinstance(event, RoutedMessage.Received):
            writer.put_pending(
                message_id,
                {
                    "received_us": epoch_us(event.timestamp),
                    "from": event.from_party or "unknown",
                    "to": event.to_party or "",
                    "module": event.module or "",
                    "request_bytes": event.body_size,
                    "legs": {},
                    "done": False,
                },
            )
            return
        state = writer.pending(message_id)
        if state is None:
            return
        if isinstance(event, RoutedMessage.Forwarded):
            state["legs"][str(event.leg)] = [event.target_party or "unknown", event.body_size]
            self._translated(writer, event, state["from"], event.target_party or "unknown", state)
        elif isinstance(event, RoutedMessage.Answered | RoutedMessage.Failed):
            leg = state["legs"].pop(str(event.leg), None)
            if leg is None:
                return
            if isinstance(event, RoutedMessage.Answered):
                ok = is_success(event.http_status, event.ocpi_status)
                outcome, answer_bytes = ("success" if ok else "error"), event.body_size
                self._translated(writer, event, leg[0], state["from"], state)
            else:
                outcome, answer_bytes = "failed", 0
            writer.observe(
                Observation(
                    party=leg[0],
                    counterpart=state["from"],
                    module=state["module"],
                    direction="received",
                    outcome=outcome,
                    received_us=state["received_us"],
                    bytes_in=leg[1],
                    bytes_out=answer_bytes,
                    latency_ms=event.latency_ms,
                )
            )
        elif isinstance(event, RoutedMessage.Responded | RoutedMessage.Refused):
            if isinstance(event, RoutedMessage.Responded):
                ok = is_success(event.http_status, event.ocpi_status)
                outcome, answer_bytes, latency = (
                    ("success" if ok else "error"),
                    event.body_size,
                    event.latency_ms,
                )
                # an answer the hub gave from its store, translated from the owner's push
                source = state["to"] or "hub"
                self._translated(writer, event, source, state["from"], state)
            else:
                outcome, answer_bytes, latency = "refused", 0, None
            state["done"] = True
            writer.observe(
                Observation(
                    party=state["from"],
                    counterpart=state["to"],
                    module=state["module"],
                    direction="sent",
                    outcome=outcome,
                    received_us=state["received_us"],
                    bytes_in=answer_bytes,
                    bytes_out=state["request_bytes"],
                    latency_ms=latency,
                )
            )
        if state["done"] and not state["legs"]:
            writer.drop_pending(message_id)
        else:
            writer.put_pending(message_id, state)

    @staticmethod
    def _translated(
        writer: TrafficWriter, event: Any, party: str, counterpart: str, state: dict[str, Any]
    ) -> None:
        # Records made before translation existed read as None: nothing to count.
        observation = translation_of(
            getattr(event, "translation", None),
            party,
            counterpart,
            state["module"],
            state["received_us"],
        )
        if observation is not None:
            writer.translated(observation)


# ---- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrafficQuery:
    party: str | None = None
    granularity: str = "hour"
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise InvalidQuery("bucket must be hour or day")
        if self.since and self.until and self.since >= self.until:
            raise InvalidQuery("since must be before until")


def summarise(rows: Iterable[Mapping[str, Any]], group: tuple[str, ...]) -> list[dict[str, Any]]:
    """Fold bucket rows (one per outcome) into groups with counts, error rate and percentiles."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in group)
        item = groups.get(key)
        if item is None:
            item = {name: row[name] for name in group}
            item.update(
                count=0, errors=0, bytes_in=0, bytes_out=0, outcomes={}, histograms=[], lat=[0, 0.0]
            )
            groups[key] = item
        count = int(row["count"])
        item["count"] += count
        if row["outcome"] in ERROR_OUTCOMES:
            item["errors"] += count
        item["bytes_in"] += int(row["bytes_in"])
        item["bytes_out"] += int(row["bytes_out"])
        item["outcomes"][row["outcome"]] = item["outcomes"].get(row["outcome"], 0) + count
        item["histograms"].append(decode_histogram(row["histogram"]))
        item["lat"][0] += int(row["latency_count"])
        item["lat"][1] += float(row["latency_sum"])
    result = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        item = groups[key]
        histogram = merge_histograms(item.pop("histograms"))
        latency_count, latency_sum = item.pop("lat")
        item["error_rate"] = round(item["errors"] / item["count"], 4) if item["count"] else 0.0
        item["latency_ms"] = {
            "mean": round(latency_sum / latency_count, 3) if latency_count else None,
            "p50": percentile(histogram, 0.50),
            "p95": percentile(histogram, 0.95),
            "p99": percentile(histogram, 0.99),
        }
        result.append(item)
    return result


class TrafficQueries(Protocol):
    def report(self, query: TrafficQuery) -> dict[str, Any]: ...
