"""The traffic view in SQL: bucket rows keyed by (granularity, party, bucket, counterpart, module,
direction, outcome), the party's last seen times, and the few messages still in flight."""

from __future__ import annotations

import json
from typing import Any

from application.audit import epoch_us, from_epoch_us
from application.traffic import (
    GRANULARITIES,
    Observation,
    TrafficProjection,
    TrafficQuery,
    TrafficWriter,
    TranslationObservation,
    bucket_start,
    decode_histogram,
    encode_histogram,
    latency_bin,
    summarise,
)
from infrastructure.sql import Cursor
from infrastructure.tracked_view import SqlTrackedView

BucketKey = tuple[str, str, int, str, str, str, str]
_KEY_COLUMNS = ("granularity", "party", "bucket_start", "counterpart", "module", "direction")
_KEY = (*_KEY_COLUMNS, "outcome")
_VALUES = ("count", "bytes_in", "bytes_out", "latency_count", "latency_sum", "histogram")
_TRANSLATION_KEY = (*_KEY_COLUMNS[:5], "source_version", "target_version")
_TRANSLATION_COUNTS = ("translations", "lossy", "losses")
_TRANSLATION_COLUMNS = (*_TRANSLATION_KEY, *_TRANSLATION_COUNTS)


class SqlTrafficWriter:
    """Accumulates a batch in memory; each touched bucket is read once and written once."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self._buckets: dict[BucketKey, dict[str, Any]] = {}
        self._pending: dict[str, dict[str, Any] | None] = {}
        self._seen: dict[str, list[int]] = {}
        self._translations: dict[tuple[Any, ...], list[int]] = {}

    def translated(self, observation: TranslationObservation) -> None:
        o = observation
        for granularity in GRANULARITIES:
            key = (
                granularity,
                o.party,
                bucket_start(o.received_us, granularity),
                o.counterpart,
                o.module,
                o.source_version,
                o.target_version,
            )
            counts = self._translations.setdefault(key, [0, 0, 0])
            counts[0] += 1
            counts[1] += 1 if o.losses else 0
            counts[2] += o.losses

    def pending(self, message_id: str) -> dict[str, Any] | None:
        if message_id not in self._pending:
            row = self.cursor.execute(
                "SELECT state FROM traffic_pending WHERE id = %s", (message_id,)
            ).fetchone()
            self._pending[message_id] = None if row is None else json.loads(row["state"])
        return self._pending[message_id]

    def put_pending(self, message_id: str, state: dict[str, Any]) -> None:
        self._pending[message_id] = state

    def drop_pending(self, message_id: str) -> None:
        self._pending[message_id] = None

    def observe(self, observation: Observation) -> None:
        o = observation
        for granularity in GRANULARITIES:
            key: BucketKey = (
                granularity,
                o.party,
                bucket_start(o.received_us, granularity),
                o.counterpart,
                o.module,
                o.direction,
                o.outcome,
            )
            bucket = self._bucket(key)
            bucket["count"] += 1
            bucket["bytes_in"] += o.bytes_in
            bucket["bytes_out"] += o.bytes_out
            if o.latency_ms is not None:
                bucket["latency_count"] += 1
                bucket["latency_sum"] += o.latency_ms
                index = latency_bin(o.latency_ms)
                bucket["histogram"][index] = bucket["histogram"].get(index, 0) + 1
        seen = self._seen.setdefault(o.party, [0, 0])
        slot = 0 if o.direction == "sent" else 1
        seen[slot] = max(seen[slot], o.received_us)

    def _bucket(self, key: BucketKey) -> dict[str, Any]:
        bucket = self._buckets.get(key)
        if bucket is None:
            where = " AND ".join(f"{c} = %s" for c in _KEY)
            row = self.cursor.execute(
                f"SELECT {', '.join(_VALUES)} FROM traffic_buckets WHERE {where}", key
            ).fetchone()
            if row is None:
                bucket = dict.fromkeys(_VALUES[:-1], 0)
                bucket["latency_sum"] = 0.0
                bucket["histogram"] = {}
            else:
                bucket = {**row, "histogram": decode_histogram(row["histogram"])}
            self._buckets[key] = bucket
        return bucket

    def flush(self) -> None:
        columns = (*_KEY, *_VALUES)
        self.cursor.executemany(
            f"INSERT INTO traffic_buckets ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))}) "
            f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in _VALUES),
            [
                (*key, *(b[c] for c in _VALUES[:-1]), encode_histogram(b["histogram"]))
                for key, b in sorted(self._buckets.items())
            ],
        )
        self.cursor.executemany(
            "INSERT INTO traffic_pending (id, state) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            [(i, json.dumps(s)) for i, s in sorted(self._pending.items()) if s is not None],
        )
        self.cursor.executemany(
            "DELETE FROM traffic_pending WHERE id = %s",
            [(i,) for i, s in sorted(self._pending.items()) if s is None],
        )
        self.cursor.executemany(
            "INSERT INTO traffic_last_seen (party, last_sent_us, last_received_us) "
            "VALUES (%s, %s, %s) ON CONFLICT (party) DO UPDATE SET "
            "last_sent_us = CASE WHEN excluded.last_sent_us > traffic_last_seen.last_sent_us "
            "THEN excluded.last_sent_us ELSE traffic_last_seen.last_sent_us END, "
            "last_received_us = CASE WHEN excluded.last_received_us > "
            "traffic_last_seen.last_received_us THEN excluded.last_received_us "
            "ELSE traffic_last_seen.last_received_us END",
            [(party, sent, received) for party, (sent, received) in sorted(self._seen.items())],
        )
        self.cursor.executemany(
            f"INSERT INTO traffic_translations ({', '.join(_TRANSLATION_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_TRANSLATION_COLUMNS))}) "
            f"ON CONFLICT ({', '.join(_TRANSLATION_KEY)}) DO UPDATE SET "
            + ", ".join(
                f"{c} = traffic_translations.{c} + excluded.{c}" for c in _TRANSLATION_COUNTS
            ),
            [(*key, *counts) for key, counts in sorted(self._translations.items())],
        )
        self._buckets.clear()
        self._pending.clear()
        self._seen.clear()
        self._translations.clear()


class SqlTrafficView(SqlTrackedView[TrafficWriter]):
    name = TrafficProjection.name
    tables = ("traffic_buckets", "traffic_pending", "traffic_last_seen", "traffic_translations")
    ddl = (
        "CREATE TABLE IF NOT EXISTS traffic_buckets (granularity TEXT NOT NULL, "
        "party TEXT NOT NULL, bucket_start BIGINT NOT NULL, counterpart TEXT NOT NULL, "
        "module TEXT NOT NULL, direction TEXT NOT NULL, outcome TEXT NOT NULL, "
        "count BIGINT NOT NULL, bytes_in BIGINT NOT NULL, bytes_out BIGINT NOT NULL, "
        "latency_count BIGINT NOT NULL, latency_sum DOUBLE PRECISION NOT NULL, "
        "histogram TEXT NOT NULL, PRIMARY KEY (granularity, party, bucket_start, counterpart, "
        "module, direction, outcome))",
        "CREATE INDEX IF NOT EXISTS traffic_buckets_time "
        "ON traffic_buckets (granularity, bucket_start)",
        "CREATE TABLE IF NOT EXISTS traffic_pending (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS traffic_last_seen (party TEXT PRIMARY KEY, "
        "last_sent_us BIGINT NOT NULL, last_received_us BIGINT NOT NULL)",
        # Bodies translated between OCPI versions from party to counterpart: how many, how
        # many lost something, how many fields were lost in all.
        "CREATE TABLE IF NOT EXISTS traffic_translations (granularity TEXT NOT NULL, "
        "party TEXT NOT NULL, bucket_start BIGINT NOT NULL, counterpart TEXT NOT NULL, "
        "module TEXT NOT NULL, source_version TEXT NOT NULL, target_version TEXT NOT NULL, "
        "translations BIGINT NOT NULL, lossy BIGINT NOT NULL, losses BIGINT NOT NULL, "
        "PRIMARY KEY (granularity, party, bucket_start, counterpart, module, source_version, "
        "target_version))",
    )

    def writer(self, cursor: Cursor) -> TrafficWriter:
        return SqlTrafficWriter(cursor)

    # ---- queries -----------------------------------------------------------------------------

    def rows(self, query: TrafficQuery) -> list[dict[str, Any]]:
        where, params = _range(query, "party = %s")
        return self.database.query(
            f"SELECT * FROM traffic_buckets WHERE {' AND '.join(where)} "
            "ORDER BY bucket_start, party, counterpart, module, direction, outcome",
            params,
        )

    def report(self, query: TrafficQuery) -> dict[str, Any]:
        rows = self.rows(query)
        series = summarise(rows, ("bucket_start", "party", "counterpart", "module", "direction"))
        for item in series:
            item["bucket"] = from_epoch_us(int(item.pop("bucket_start")))
        return {
            "party": query.party,
            "bucket": query.granularity,
            "series": series,
            "totals": summarise(rows, ("party", "counterpart", "module", "direction")),
            "top_talkers": self._top_talkers(rows),
            "last_seen": self.last_seen(query.party),
            "translations": self.translations(query),
        }

    def translations(self, query: TrafficQuery) -> list[dict[str, Any]]:
        """Per party pair, module and version pair: bodies translated, how many lost something,
        fields lost in all (a party filter matches either side)."""
        where, params = _range(query, "(party = %s OR counterpart = %s)")
        group = ", ".join(_TRANSLATION_KEY[1:2] + _TRANSLATION_KEY[3:])
        rows = self.database.query(
            f"SELECT {group}, SUM(translations) AS translations, SUM(lossy) AS lossy, "
            f"SUM(losses) AS losses FROM traffic_translations WHERE {' AND '.join(where)} "
            f"GROUP BY {group} ORDER BY {group}",
            params,
        )
        return [{**row, **{c: int(row[c]) for c in _TRANSLATION_COUNTS}} for row in rows]

    @staticmethod
    def _top_talkers(rows: list[dict[str, Any]], limit: int = 10) -> list[dict[str, Any]]:
        sent: dict[str, list[int]] = {}
        for row in rows:
            if row["direction"] == "sent":
                totals = sent.setdefault(row["party"], [0, 0])
                totals[0] += int(row["count"])
                totals[1] += int(row["bytes_out"])
        ranked = sorted(sent.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
        return [{"party": p, "sent": c, "bytes_out": b} for p, (c, b) in ranked]

    def last_seen(self, party: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM traffic_last_seen"
        params: list[Any] = []
        if party:
            sql += " WHERE party = %s"
            params.append(party)
        rows = self.database.query(sql + " ORDER BY party", params)
        return [
            {
                "party": r["party"],
                "last_sent": from_epoch_us(int(r["last_sent_us"])) if r["last_sent_us"] else None,
                "last_received": (
                    from_epoch_us(int(r["last_received_us"])) if r["last_received_us"] else None
                ),
            }
            for r in rows
        ]


def _range(query: TrafficQuery, party_condition: str) -> tuple[list[str], list[Any]]:
    """The WHERE terms of a query's granularity, party (each %s of the condition is the party)
    and time range."""
    where = ["granularity = %s"]
    params: list[Any] = [query.granularity]
    if query.party:
        where.append(party_condition)
        params += [query.party] * party_condition.count("%s")
    if query.since is not None:
        # A bucket counts if it starts in the range: since is rounded down to its bucket.
        where.append("bucket_start >= %s")
        params.append(bucket_start(epoch_us(query.since), query.granularity))
    if query.until is not None:
        where.append("bucket_start < %s")
        params.append(epoch_us(query.until))
    return where, params
