"""The ledger's hash chain in SQL: the chain table, reading records with their links and bodies,
and `verify_ledger`, which recomputes the whole chain and names the first record that was
altered, removed, inserted or reordered.

The chain table lives beside the events (PostgreSQL: `ledger_chain` in the node's schema; SQLite:
in `<name>.messages.db`). Positions are dense (1, 2, 3, ...), so a removed link shows as a gap,
and each link repeats the hash before it, so a link rewritten in place breaks the next one.

Above 500 lines: writing the chain and verifying it (records, bodies, redactions, a signed
checkpoint's heads) share one notion of a link and must not drift apart, so they stay together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.chain import (
    GENESIS,
    ChainLink,
    body_matches,
    extend_chain,
    link_hash,
    linked_body_hashes,
    referenced_body_hashes,
)
from domain.retention import BodyRedaction
from infrastructure.sql import Database

CHAIN_TABLE = "ledger_chain"
REGISTRY_CHAIN_TABLE = "registry_chain"
CHAINS = ("ledger", "registry")
"""The chained applications: the message ledger and the registry (connections, parties)."""
BODIES = "message_bodies"
REDACTED_TOPIC = get_topic(BodyRedaction.BodyRedacted)


def chain_ddl(table: str = CHAIN_TABLE) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (position BIGINT PRIMARY KEY, "
        "notification_id BIGINT NOT NULL, originator_id TEXT NOT NULL, "
        "originator_version BIGINT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {table}_originator "
        f"ON {table} (originator_id, originator_version)",
    ]


def chain_records(
    ids: Sequence[int], stored_events: Sequence[StoredEvent]
) -> list[tuple[int, str, int, str, bytes]]:
    return [
        (nid, str(e.originator_id), e.originator_version, e.topic, bytes(e.state))
        for nid, e in zip(ids, stored_events, strict=True)
    ]


def append_links(
    cursor: Any,
    table: str,
    records: Sequence[tuple[int, str, int, str, bytes]],
    mark: str = "%s",
) -> list[ChainLink]:
    """Extend the chain in `table` by these records (notification id, originator id, version,
    topic, state), after its head, in the caller's transaction (which must hold the events
    table's write lock, so the head read is the true head)."""
    cursor.execute(f"SELECT * FROM {table} ORDER BY position DESC LIMIT 1")
    row = cursor.fetchone()
    head = link_from_row(dict(row)) if row else None
    links = extend_chain(head, records)
    marks = ", ".join([mark] * 6)
    cursor.executemany(
        f"INSERT INTO {table} (position, notification_id, originator_id, "
        f"originator_version, prev_hash, hash) VALUES ({marks})",
        [
            (link.position, link.notification_id, link.originator_id,
             link.originator_version, link.prev_hash, link.hash)
            for link in links
        ],
    )  # fmt: skip
    return links


def link_from_row(row: dict[str, Any]) -> ChainLink:
    return ChainLink(
        position=int(row["position"]),
        notification_id=int(row["notification_id"]),
        originator_id=str(row["originator_id"]),
        originator_version=int(row["originator_version"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


@dataclass(frozen=True)
class StoredRecord:
    """One event exactly as stored: what a link's hash is computed from."""

    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class StoredBody:
    sha256: str
    content_type: str
    size: int
    data: bytes | None
    """None once redacted (or removed)."""
    stored_at: str


class LedgerArchive:
    """Reads an application's records, chain links and bodies straight from SQL: the message
    ledger's (`chain="ledger"`, the default) or the registry's (`chain="registry"`, whose
    database is the registry's: SQLite keeps it in another file)."""

    def __init__(self, database: Database, chain: str = "ledger") -> None:
        self.database = database
        self.chain = chain
        self._chain_table = f"{chain}_chain"
        if database.dialect == "postgres":
            self._events = f"{chain}_events"
            self._nid = "notification_id"
        else:
            self._events = "stored_events"
            self._nid = "rowid"

    def _originator_param(self, originator_id: str) -> Any:
        uuid = UUID(originator_id)
        return uuid if self.database.dialect == "postgres" else uuid.hex

    def _record(self, row: dict[str, Any]) -> StoredRecord:
        return StoredRecord(
            notification_id=int(row["nid"]),
            originator_id=str(UUID(str(row["originator_id"]))),
            originator_version=int(row["originator_version"]),
            topic=row["topic"],
            state=bytes(row["state"]),
        )

    def _select_records(self, where: str, params: Sequence[Any]) -> list[StoredRecord]:
        rows = self.database.query(
            f"SELECT {self._nid} AS nid, originator_id, originator_version, topic, state "
            f"FROM {self._events} WHERE {where} ORDER BY {self._nid}",
            params,
        )
        return [self._record(r) for r in rows]

    def records_of(self, originator_id: str) -> list[StoredRecord]:
        return self._select_records("originator_id = %s", (self._originator_param(originator_id),))

    def records_between(self, after: int, upto: int) -> list[StoredRecord]:
        return self._select_records(f"{self._nid} > %s AND {self._nid} <= %s", (after, upto))

    def links_of(self, originator_id: str) -> list[ChainLink]:
        rows = self.database.query(
            f"SELECT * FROM {self._chain_table} WHERE originator_id = %s "
            "ORDER BY originator_version",
            (str(UUID(originator_id)),),
        )
        return [link_from_row(r) for r in rows]

    def links_page(self, after_position: int, limit: int) -> list[ChainLink]:
        rows = self.database.query(
            f"SELECT * FROM {self._chain_table} WHERE position > %s ORDER BY position LIMIT %s",
            (after_position, limit),
        )
        return [link_from_row(r) for r in rows]

    def linked_after(self, notification_id: int) -> set[int]:
        rows = self.database.query(
            f"SELECT notification_id FROM {self._chain_table} WHERE notification_id > %s",
            (notification_id,),
        )
        return {int(r["notification_id"]) for r in rows}

    def head(self) -> ChainLink | None:
        row = self.database.query_one(
            f"SELECT * FROM {self._chain_table} ORDER BY position DESC LIMIT 1"
        )
        return link_from_row(row) if row else None

    def link_of_record(self, notification_id: int) -> ChainLink | None:
        row = self.database.query_one(
            f"SELECT * FROM {self._chain_table} WHERE notification_id = %s", (notification_id,)
        )
        return link_from_row(row) if row else None

    def link_at(self, position: int) -> ChainLink | None:
        row = self.database.query_one(
            f"SELECT * FROM {self._chain_table} WHERE position = %s", (position,)
        )
        return link_from_row(row) if row else None

    def bodies(self, hashes: Iterable[str]) -> dict[str, StoredBody]:
        wanted = sorted(set(hashes))
        if self.chain != "ledger":
            return {}
        found: dict[str, StoredBody] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            rows = self.database.query(
                f"SELECT sha256, content_type, size, body, stored_at FROM {BODIES} "
                f"WHERE sha256 IN ({marks})",
                chunk,
            )
            for r in rows:
                data = None if r["body"] is None else bytes(r["body"])
                found[r["sha256"]] = StoredBody(
                    r["sha256"], r["content_type"], int(r["size"]), data, str(r["stored_at"])
                )
        return found

    def redacted_hashes(self) -> set[str]:
        """Bodies the ledger itself says were redacted (by a recorded BodyRedacted event)."""
        if self.chain != "ledger":
            return set()
        rows = self.database.query(
            f"SELECT state FROM {self._events} WHERE topic = %s", (REDACTED_TOPIC,)
        )
        hashes: set[str] = set()
        for row in rows:
            hashes.update(referenced_body_hashes(bytes(row["state"])))
        return hashes

    def redaction_records(self, hashes: Iterable[str]) -> list[StoredRecord]:
        """The BodyRedacted records of these bodies."""
        wanted = set(hashes)
        if not wanted or self.chain != "ledger":
            return []
        return [
            r
            for r in self._select_records("topic = %s", (REDACTED_TOPIC,))
            if wanted.intersection(referenced_body_hashes(r.state))
        ]

    def max_notification_id(self) -> int:
        row = self.database.query_one(f"SELECT MAX({self._nid}) AS m FROM {self._events}")
        return int(row["m"]) if row and row["m"] is not None else 0


# ---- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str
    """link_missing | chain_broken | record_removed | record_replaced | record_altered |
    record_unchained | body_missing | body_removed | body_altered"""
    detail: str
    position: int | None = None
    notification_id: int | None = None
    originator_id: str | None = None
    originator_version: int | None = None
    chain: str = "ledger"


@dataclass
class VerificationReport:
    records: int = 0
    links: int = 0
    bodies_checked: int = 0
    bodies_redacted: int = 0
    head_position: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)
    problems_truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["first_problem"] = asdict(self.first_problem) if self.first_problem else None
        return data


class _Collector:
    def __init__(self, report: VerificationReport, max_problems: int, chain: str) -> None:
        self.report = report
        self.max_problems = max_problems
        self.chain = chain

    def add(self, problem: Problem) -> None:
        if len(self.report.problems) < self.max_problems:
            self.report.problems.append(replace(problem, chain=self.chain))
        else:
            self.report.problems_truncated = True


def verify_ledger(
    archive: LedgerArchive,
    *,
    page_size: int = 2000,
    max_problems: int = 100,
    on_progress: Any = None,
    expected_head: tuple[int, str] | None = None,
) -> VerificationReport:
    """Recompute every link from the stored records and bodies.

    Checks up to the chain head seen at the start, so a live ledger can be verified while it
    is written. Bodies are checked against the hashes the records reference: bytes that no
    longer hash to their name are altered; missing bytes are fine only if a recorded
    BodyRedacted event says so.

    `expected_head` (position, hash), from a signed checkpoint, is what the chain held then:
    a chain that is now shorter was truncated (records removed together with their links,
    which the chain alone cannot show), one with another hash there diverged.
    """
    report = VerificationReport()
    problems = _Collector(report, max_problems, archive.chain)
    head = archive.head()
    redacted = archive.redacted_hashes()
    if expected_head is not None:
        _check_expected_head(archive, head, *expected_head, problems)
    record: StoredRecord | None
    if head is None:
        unchained = archive.records_between(0, archive.max_notification_id())
        if unchained and archive.chain == "registry":
            problems.add(
                Problem(
                    "chain_missing",
                    f"the registry holds {len(unchained)} records and no chain: a store from "
                    "before the registry was chained; a node chains it when it starts",
                )
            )
            return report
        for record in unchained:
            problems.add(_unchained(record))
        return report
    expected_position, prev_hash, last_nid = 1, GENESIS, 0
    for page in _pages(archive, head.position, page_size):
        upto = max(link.notification_id for link in page)
        records = {r.notification_id: r for r in archive.records_between(last_nid, upto)}
        chained: set[int] = set()
        referenced: dict[str, tuple[ChainLink, StoredRecord]] = {}
        for link in page:
            report.links += 1
            if link.position != expected_position:
                problems.add(
                    Problem(
                        "link_missing",
                        f"chain positions {expected_position}..{link.position - 1} are missing: "
                        "records were removed together with their links",
                        position=expected_position,
                    )
                )
            elif link.prev_hash != prev_hash:
                problems.add(_at(link, "chain_broken", "link does not follow the link before it"))
            expected_position, prev_hash = link.position + 1, link.hash
            chained.add(link.notification_id)
            record = records.get(link.notification_id)
            if record is None:
                problems.add(_at(link, "record_removed", "the chained record is gone"))
                continue
            if (record.originator_id, record.originator_version) != (
                link.originator_id,
                link.originator_version,
            ):
                problems.add(
                    _at(
                        link,
                        "record_replaced",
                        f"position holds {record.originator_id} v{record.originator_version} "
                        "instead: records were reordered or replaced",
                    )
                )
                continue
            digest = link_hash(
                link.prev_hash,
                record.notification_id,
                record.originator_id,
                record.originator_version,
                record.topic,
                record.state,
                linked_body_hashes(record.state),
            )
            if digest != link.hash:
                problems.add(_at(link, "record_altered", "the stored event differs from the chain"))
            for sha in referenced_body_hashes(record.state):
                referenced.setdefault(sha, (link, record))
        report.records += len(chained & set(records))
        for nid in sorted(set(records) - chained):
            problems.add(_unchained(records[nid]))
        _check_bodies(archive, referenced, redacted, report, problems)
        last_nid = max(last_nid, upto)
        if on_progress is not None:
            on_progress(report.links, head.position)
    # Records after the head: legitimate only if written (with their links) since we began.
    later_links = archive.linked_after(last_nid)
    for record in archive.records_between(last_nid, archive.max_notification_id()):
        if record.notification_id not in later_links:
            problems.add(_unchained(record))
    report.head_position, report.head_hash = head.position, head.hash
    return report


def _check_expected_head(
    archive: LedgerArchive,
    head: ChainLink | None,
    position: int,
    expected_hash: str,
    problems: _Collector,
) -> None:
    if position <= 0:
        return
    length = head.position if head else 0
    if length < position:
        problems.add(
            Problem(
                "truncated",
                f"the {archive.chain} chain ends at position {length}, but a signed checkpoint "
                f"covers {position}: positions {length + 1}..{position} are missing",
                position=length + 1,
            )
        )
        return
    link = archive.link_at(position)
    if link is None:
        problems.add(
            Problem(
                "truncated",
                f"position {position}, the head of a signed checkpoint, is missing",
                position=position,
            )
        )
    elif link.hash != expected_hash:
        problems.add(
            _at(
                link,
                "diverged",
                f"the chain differs from a signed checkpoint at or before position {position}",
            )
        )


def _pages(archive: LedgerArchive, upto: int, size: int) -> Iterator[list[ChainLink]]:
    after = 0
    while after < upto:
        page = [link for link in archive.links_page(after, size) if link.position <= upto]
        if not page:
            return
        yield page
        after = page[-1].position


def _at(link: ChainLink, kind: str, detail: str) -> Problem:
    return Problem(
        kind,
        detail,
        position=link.position,
        notification_id=link.notification_id,
        originator_id=link.originator_id,
        originator_version=link.originator_version,
    )


def _check_bodies(
    archive: LedgerArchive,
    referenced: dict[str, tuple[ChainLink, StoredRecord]],
    redacted: set[str],
    report: VerificationReport,
    problems: _Collector,
) -> None:
    stored = archive.bodies(referenced)
    for sha, (link, _record) in sorted(referenced.items(), key=lambda i: i[1][0].position):
        report.bodies_checked += 1
        body = stored.get(sha)
        if body is None:
            problems.add(_at(link, "body_missing", f"body {sha} is not in the body store"))
        elif body.data is None:
            if sha in redacted:
                report.bodies_redacted += 1
            else:
                problems.add(
                    _at(link, "body_removed", f"body {sha} was emptied without a redaction")
                )
        elif not body_matches(sha, body.data):
            problems.add(_at(link, "body_altered", f"body {sha} no longer hashes to its name"))


def _unchained(record: StoredRecord) -> Problem:
    return Problem(
        "record_unchained",
        "record is not in the chain: inserted outside the ledger",
        notification_id=record.notification_id,
        originator_id=record.originator_id,
        originator_version=record.originator_version,
    )


def verify_chains(
    archives: Sequence[LedgerArchive],
    *,
    checkpoint: dict[str, Any] | None = None,
    public_key: Any = None,
    on_progress: Any = None,
) -> dict[str, Any]:
    """Verify every chain (ledger, registry), and against a signed checkpoint if given.

    The ledger's report stays at the top level (what `verify` always answered); each chain's
    report is under `chains`, and `ok` and `problems` cover them all. With a checkpoint, its
    signature is checked when `public_key` is given, and each chain must still hold the head
    the checkpoint names: a shorter chain is reported as truncated from the first missing
    position.
    """
    from application.signing import signature_problem
    from domain.signed import covers

    reports = {}
    for archive in archives:
        expected = covers(checkpoint, archive.chain) if checkpoint is not None else None
        reports[archive.chain] = verify_ledger(
            archive,
            on_progress=on_progress if archive.chain == "ledger" else None,
            expected_head=expected,
        )
    main = reports.get("ledger") or next(iter(reports.values()))
    data = main.as_dict()
    data["chains"] = {name: report.as_dict() for name, report in reports.items()}
    problems = [asdict(p) for report in reports.values() for p in report.problems]
    if checkpoint is not None:
        state = {"taken_at": checkpoint.get("taken_at"), "key_id": checkpoint.get("key_id")}
        if public_key is None:
            state["signature"] = "not checked (no public key given)"
        else:
            wrong = signature_problem(checkpoint, public_key)
            state["signature"] = "valid" if wrong is None else "INVALID"
            if wrong is not None:
                problems.insert(0, asdict(Problem("checkpoint_signature", wrong, chain="")))
        data["checkpoint"] = state
    data["problems"] = problems
    data["ok"] = not problems
    data["first_problem"] = problems[0] if problems else None
    return data


def adopt_unchained(archive: LedgerArchive) -> int:
    """Chain the records of a store written before its chain existed (a registry from before
    the registry was chained): once, when the chain is empty, in notification order, under
    the events table's lock. Returns how many were adopted (0 when there was nothing to do).

    From then on verify covers them; what they were before the adoption rests on the
    operator's word, so the first checkpoint after an upgrade is the one to keep."""
    with archive.database.transaction() as cursor:
        if archive.database.dialect == "postgres":
            cursor.execute(f"LOCK TABLE {archive._events} IN EXCLUSIVE MODE")
        if cursor.execute(f"SELECT 1 FROM {archive._chain_table} LIMIT 1").fetchall():
            return 0
        rows = cursor.execute(
            f"SELECT {archive._nid} AS nid, originator_id, originator_version, topic, state "
            f"FROM {archive._events} ORDER BY {archive._nid}"
        ).fetchall()
        records = [archive._record(row) for row in rows]
        links = append_links(
            cursor,
            archive._chain_table,
            [
                (r.notification_id, r.originator_id, r.originator_version, r.topic, r.state)
                for r in records
            ],
        )
    return len(links)
