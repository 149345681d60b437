"""Scale benchmarks: audit queries over a large ledger view, projection rebuild rate, registering
parties, resident memory of the routing table, broadcast fan-out. `size` scales every count
(1.0 = the issue's figures: 1,000,000 audit messages, 1,000 parties on 100 connections, 10,000
parties in memory, 50 broadcast receivers)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from application.audit import AuditProjection, MessageQuery
from application.bodies import Body
from bench.broadcast import broadcast
from bench.postgres import postgres_schema
from domain.messages import Admission, RoutedMessage
from domain.values import Role
from infrastructure.audit_view import SqlAuditView
from infrastructure.database_url import parse_database_url
from infrastructure.projection_runner import ProjectionRunner
from infrastructure.store import Store, open_store

Lines = list[str]
Section = tuple[str, Lines]


def _postgres_store() -> tuple[Store, Callable[[], None]]:
    schema = postgres_schema()
    url = schema.__enter__()
    store = open_store(parse_database_url(url))

    def close() -> None:
        store.close()
        schema.__exit__(None, None, None)

    return store, close


def _store(kind: str) -> tuple[Store, Callable[[], None]]:
    """A fresh store of `kind` (sqlite in a temporary directory, postgres in its own schema)."""
    if kind == "postgres":
        return _postgres_store()
    directory = tempfile.TemporaryDirectory()
    store = open_store(parse_database_url(f"sqlite:///{directory.name}/bench.db"))

    def close() -> None:
        store.close()
        directory.cleanup()

    return store, close


# ---- audit queries -----------------------------------------------------------------------------

_BASE_US = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)
_STEP_US = 1000  # one message per millisecond


def fill_audit(view: SqlAuditView, count: int) -> None:
    """`count` messages straight into the audit view's tables, in SQL (generate_series):
    200 sender parties, 50 receivers, unique request and correlation ids, 4 keys each."""
    with view.database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO audit_messages (id, received_us, updated_us, sender_scope, "
            "connection_id, from_party, to_party, module, interface, method, path, request_id, "
            "correlation_id, object_id, attempt, classification, reason, targets, outcome, "
            "http_status, ocpi_status, latency_ms, legs, legs_failed, request_bytes, "
            "response_bytes) SELECT 'm' || g, %s + g * %s, %s + g * %s, 'c' || (g %% 200), "
            "'c' || (g %% 200), 'NL*S' || (g %% 200), 'NL*R' || (g %% 50), 'tokens', 'RECEIVER', "
            "'PUT', '/NL/S/U' || g, 'r' || g, 'x' || g, 'U' || g, 0, 'direct', 'bench', '[]', "
            "'success', 200, 1000, 1.5, 1, 0, 230, 80 FROM generate_series(1, %s) g",
            (_BASE_US, _STEP_US, _BASE_US, _STEP_US, count),
        )
        for key in ("'p:NL*S' || (g %% 200)", "'p:NL*R' || (g %% 50)", "'r:r' || g", "'x:x' || g"):
            cursor.execute(
                f"INSERT INTO audit_keys (key, received_us, message_id) SELECT {key}, "
                "%s + g * %s, 'm' || g FROM generate_series(1, %s) g",
                (_BASE_US, _STEP_US, count),
            )
        cursor.execute("ANALYZE audit_messages")
        cursor.execute("ANALYZE audit_keys")


def _timed(function: Callable[[], object], repeat: int = 7) -> tuple[float, float]:
    """(median, max) milliseconds over `repeat` calls after one warm-up call."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def audit_queries(size: float, say: Callable[[str], None]) -> Section:
    count = max(1000, int(1_000_000 * size))
    store, close = _postgres_store()
    try:
        view = SqlAuditView(store.ledger_db)
        started = time.perf_counter()
        fill_audit(view, count)
        fill_s = time.perf_counter() - started
        middle = datetime.fromtimestamp((_BASE_US + count // 2 * _STEP_US) / 1e6, UTC)
        queries = {
            "by party (NL*S7, newest 50)": MessageQuery(party="NL*S7"),
            "by party and counterpart period (NL*R3, 1 h)": MessageQuery(
                party="NL*R3", since=middle, until=middle + timedelta(hours=1)
            ),
            "by correlation id": MessageQuery(correlation_id=f"x{count // 3}"),
            "by request id": MessageQuery(request_id=f"r{count // 5}"),
            "by time range (10 s in the middle, 50)": MessageQuery(
                since=middle, until=middle + timedelta(seconds=10)
            ),
            "by time range, page 20 (offset 1000)": MessageQuery(
                since=middle, until=middle + timedelta(minutes=10), offset=1000
            ),
        }
        lines = [
            f"{count:,} messages in the audit view (PostgreSQL; filled with generate_series in "
            f"{fill_s:.0f} s). Each query is `SqlAuditView.find` — the function behind "
            "`GET /admin/messages` — median and max of 7 runs after a warm-up. Target < 50 ms. "
            "`total` is `SqlAuditView.count` (exact up to 1,000, then the planner's estimate), "
            "which the same request also runs; its median ms is the last column.",
            "",
            "| query | rows | median ms | max ms | target | total | count ms |",
            "|---|---:|---:|---:|---|---:|---:|",
        ]
        for name, query in queries.items():
            rows = len(view.find(query))
            median, worst = _timed(lambda q=query: view.find(q))  # type: ignore[misc]
            ok = "met" if worst < 50 else "MISSED"
            total = view.count(query)
            counted, _ = _timed(lambda q=query: view.count(q))  # type: ignore[misc]
            shown = f"{total['total']:,}" + ("" if total["total_exact"] else " (est.)")
            lines.append(
                f"| {name} | {rows} | {median:.1f} | {worst:.1f} | {ok} | {shown} | {counted:.1f} |"
            )
            say(f"audit {name}: {median:.1f} ms (max {worst:.1f}); count {counted:.1f} ms")
        return "Audit queries", lines
    finally:
        close()


# ---- projection rebuild ------------------------------------------------------------------------


def fill_ledger(store: Store, messages: int) -> int:
    """Realistic routed messages through the real ledger (2 events each since issue 15: 5
    before), in batches. Returns the number of messages."""
    body = Body.of(b'{"uid":"U1","type":"RFID","valid":true}', "application/json")
    answer = Body.of(b'{"status_code":1000,"timestamp":"2024-01-01T00:00:00Z"}')
    events = 0
    for first in range(0, messages, 500):
        batch = []
        for n in range(first, min(first + 500, messages)):
            admission = Admission(
                sender_scope="bench",
                request_id=f"r{n}",
                attempt=0,
                correlation_id=f"x{n}",
                connection_id="c1",
                method="PUT",
                path=f"/NL/EMA/U{n % 1000}",
                query="",
                module="tokens",
                interface="RECEIVER",
                headers={},
                body_sha256=body.sha256,
                body_size=40,
                from_party="NL*EMA",
                to_party="NL*CPA",
                retry_of=None,
            )
            admission.route("direct", ["NL*CPA"], "bench")
            admission.forward(0, "NL*CPA", "c2", "http://x/", f"f{n}", {}, body.sha256, 40)
            message = RoutedMessage.admit(admission)
            message.record_answer(0, 200, 1000, 1.0, {}, answer.sha256, 60)
            message.respond(200, 1000, 2.0, {}, answer.sha256, 60)
            batch.append(message)
        store.ledger.record(*batch, bodies=[body, answer])
        events += len(batch)
    return events


def rebuild(size: float, say: Callable[[str], None]) -> Section:
    messages = max(1000, int(20_000 * size))
    lines = [
        f"{messages:,} routed messages recorded through the ledger (two events each since "
        "issue 15, five before), then the audit projection replayed from zero with the node's "
        "ProjectionRunner (`run_until_caught_up`, batches of 500). Steps/s counts a message's "
        "five steps (Received, Routed, Forwarded, Answered, Responded) however they are stored, "
        "so it compares with the events/s of ledgers of five events per message. Target >= "
        "20,000 steps/s (4,000 messages/s).",
        "",
        "| store | messages | stored events | seconds | messages/s | steps/s | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind in ("sqlite", "postgres"):
        store, close = _store(kind)
        try:
            fill_ledger(store, messages)
            stored = store.ledger.recorder.max_notification_id() or 0
            view = SqlAuditView(store.ledger_db)
            view.reset()
            runner = ProjectionRunner(store.ledger, AuditProjection(), view)
            started = time.perf_counter()
            runner.run_until_caught_up()
            seconds = time.perf_counter() - started
            rate = messages * 5 / seconds
            ok = "met" if rate >= 20_000 else "MISSED"
            lines.append(
                f"| {kind} | {messages:,} | {stored:,} | {seconds:.2f} | "
                f"{messages / seconds:,.0f} | {rate:,.0f} | {ok} |"
            )
            say(f"rebuild {kind}: {messages / seconds:,.0f} messages/s ({rate:,.0f} steps/s)")
        finally:
            close()
    return "Projection rebuild", lines


# ---- registering parties, memory ---------------------------------------------------------------


def register_parties(size: float, say: Callable[[str], None]) -> Section:
    from bench.seed import connect

    connections = max(10, int(100 * size))
    lines = [
        f"{connections * 10:,} parties on {connections} connections (10 CPO roles each), "
        "registered through `Registry.invite` + `register_connection` (one handshake's "
        "events per connection), then loaded into a fresh in-memory routing table.",
        "",
        "| store | register s | parties/s | load table s |",
        "|---|---:|---:|---:|",
    ]
    for kind in ("sqlite", "postgres"):
        store, close = _store(kind)
        try:
            started = time.perf_counter()
            for c in range(connections):
                ids = [f"{_code(c * 10 + p)}" for p in range(10)]
                connect(store, "http://127.0.0.1:9", Role.CPO, ids, f"bench-{c}")
            seconds = time.perf_counter() - started
            from application.routing_table import InMemoryRoutingTable, RoutingTableProjection

            table = InMemoryRoutingTable()
            loaded = time.perf_counter()
            ProjectionRunner(store.registry, RoutingTableProjection(), table).run_until_caught_up()
            load_s = time.perf_counter() - loaded
            assert len(table.parties()) == connections * 10, len(table.parties())
            lines.append(
                f"| {kind} | {seconds:.2f} | {connections * 10 / seconds:,.0f} | {load_s:.2f} |"
            )
            say(f"register {kind}: {connections * 10 / seconds:,.0f} parties/s")
        finally:
            close()
    return "Registering parties", lines


def _code(number: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(alphabet[(number // 36**i) % 36] for i in (2, 1, 0))


def memory(size: float, say: Callable[[str], None]) -> Section:
    """Resident memory of a process whose routing table holds N parties (loaded from SQLite)."""
    parties = max(100, int(10_000 * size))
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/m.db"
        store = open_store(parse_database_url(url))
        from bench.seed import connect

        for c in range(parties // 10):
            connect(store, "http://127.0.0.1:9", Role.CPO, [_code(c * 10 + p) for p in range(10)],
                    f"m-{c}")  # fmt: skip
        store.close()
        probe = (
            "import sys\n"
            "from infrastructure.database_url import parse_database_url\n"
            "from infrastructure.store import open_store\n"
            "from application.routing_table import InMemoryRoutingTable, RoutingTableProjection\n"
            "from infrastructure.projection_runner import ProjectionRunner\n"
            "import api.app\n"
            "def rss():\n"
            "    return int(next(l for l in open('/proc/self/status')"
            " if l.startswith('VmRSS')).split()[1])\n"
            "store = open_store(parse_database_url(sys.argv[1]))\n"
            "before = rss()\n"
            "table = InMemoryRoutingTable()\n"
            "ProjectionRunner(store.registry, RoutingTableProjection(), table)"
            ".run_until_caught_up()\n"
            "import gc; gc.collect()\n"
            "print(before, rss(), len(table.parties()))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe, url], capture_output=True, text=True, check=True
        ).stdout.split()
    before, after, loaded = int(out[0]), int(out[1]), int(out[2])
    say(f"memory: {loaded} parties: {after - before} KiB")
    return "Resident memory", [
        f"A process with the node's modules imported and its stores open: VmRSS {before / 1024:.0f}"
        f" MiB; after loading {loaded:,} parties ({loaded // 10:,} connections) into the "
        f"in-memory routing table: {after / 1024:.0f} MiB (+{(after - before) / 1024:.1f} MiB, "
        f"{(after - before) * 1024 / loaded:,.0f} bytes per party with its connection share).",
    ]


def run_all(size: float, print_line: Callable[[str], None]) -> list[Section]:
    sections: list[Section] = []
    for benchmark in (audit_queries, rebuild, register_parties, memory):
        try:
            sections.append(benchmark(size, print_line))
        except Exception as error:  # report and go on: one failure must not lose the others
            print_line(f"{benchmark.__name__} failed: {error!r}")
            sections.append((benchmark.__name__, [f"failed: {error!r}"]))
    try:
        sections.append(broadcast(size, print_line))
    except Exception as error:
        print_line(f"broadcast failed: {error!r}")
        sections.append(("Broadcast fan-out", [f"failed: {error!r}"]))
    return sections
