"""`python -m bench`: every benchmark in one run, side by side, written to bench/RESULTS.md.

Routing passes (each server started, measured, stopped in turn, same receiver throughout):
direct calls to the receiver, the baseline proxy, and the node routing with the SQLite ledger
and with the PostgreSQL ledger (own schema, dropped after), with 1 and 2 uvicorn workers.
Then the scale benchmarks of bench/scale.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import psycopg

from bench import deliverer, load, scale
from bench.postgres import POSTGRES, postgres_schema
from bench.processes import REPO, Server, node_server, running, uvicorn_server
from bench.seed import connect
from domain.values import Role
from infrastructure.database_url import parse_database_url
from infrastructure.store import open_store

RESULTS = Path(__file__).with_name("RESULTS.md")
NODE_PREFIX = "/ocpi/2.2.1/tokens/receiver/NL/EMA/"


@dataclass
class Pass:
    name: str
    saturation: load.WrkResult
    moderate: load.PacedResult
    load_before: str
    cpu_ms: float
    """CPU time the server process(es) spent per request during the saturation pass."""
    notes: list[str] = field(default_factory=list)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(name: str, server: Server, prefix: str, auth: str, seconds: float) -> Pass:
    url = server.url
    before = loadavg()
    load.wrk(url, prefix, auth, 2, 8)  # warm-up: pools, caches, SQLite pages
    cpu = server.cpu_seconds()
    saturation = load.saturate(url, prefix, auth, seconds)
    cpu_ms = (server.cpu_seconds() - cpu) * 1000 / max(saturation.requests, 1)
    moderate = load.moderate(url, prefix, auth, seconds)
    print(
        f"{name:28} {saturation.rate:8.0f} req/s  {cpu_ms:5.2f} CPU ms/req  "
        f"moderate {moderate.rate:5.0f} req/s "
        f"p50 {moderate.p50_ms:6.2f} ms p99 {moderate.p99_ms:6.2f} ms   (load {before})",
        flush=True,
    )
    return Pass(name, saturation, moderate, before, cpu_ms)


def seed_hub(database_url: str, receiver_url: str) -> str:
    """A CPO (NL*CPA) on the receiver and an eMSP (NL*EMA); returns the eMSP's Authorization."""
    store = open_store(parse_database_url(database_url))
    try:
        connect(store, receiver_url, Role.CPO, ["CPA"], "bench-cpo")
        return connect(store, "http://127.0.0.1:9", Role.EMSP, ["EMA"], "bench-emsp")
    finally:
        store.close()


def ledger_count(database_url: str) -> int:
    """Routed messages the ledger holds (Received events), to check nothing went unrecorded."""
    url = parse_database_url(database_url)
    if url.is_postgres:
        with psycopg.connect(url.conninfo()) as conn:
            row = conn.execute(
                f"SELECT count(*) FROM {url.schema}.ledger_events WHERE topic LIKE %s",
                ("%Received",),
            ).fetchone()
    else:
        import sqlite3

        with sqlite3.connect(url.sibling_sqlite_path("messages")) as conn:
            row = conn.execute(
                "SELECT count(*) FROM stored_events WHERE topic LIKE ?", ("%Received",)
            ).fetchone()
    return int(row[0]) if row else 0


def node_pass(
    name: str,
    database_url: str,
    receiver_url: str,
    seconds: float,
    workers: int,
    repo: Path | None = None,
    settings: dict[str, str] | None = None,
) -> Pass:
    try:
        auth = seed_hub(database_url, receiver_url)
        label = "".join(c if c.isalnum() else "-" for c in name)
        server = node_server(label, database_url, workers, repo or REPO, settings)
        # Stopping the node commits the outcomes still queued behind the answers.
        with running(server, "/health"):
            result = measure(name, server, NODE_PREFIX, auth, seconds)
    except Exception as error:
        return failed_pass(name, error)
    sent = result.saturation.requests + result.moderate.requests
    recorded = ledger_count(database_url)
    result.notes.append(f"ledger holds {recorded} messages for >= {sent} answered requests")
    return result


def proxy_pass(name: str, app: str, env: dict[str, str], workers: int, seconds: float) -> Pass:
    try:
        label = app.split(":")[0].rsplit(".", 1)[-1]
        with running(uvicorn_server(f"{label}-{workers}", app, env, workers)) as proxy:
            return measure(name, proxy, NODE_PREFIX, "Token x", seconds)
    except Exception as error:
        return failed_pass(name, error)


def failed_pass(name: str, error: Exception) -> Pass:
    """A pass that could not run: reported in the table instead of ending the whole run."""
    print(f"{name:28} FAILED: {error}", flush=True)
    nothing = load.WrkResult(0, 1, 0, 0, 0, 0, 0, 0)
    result = Pass(name, nothing, load.PacedResult(0, 0, 0, 0, 0, 0, 0), loadavg(), 0)
    result.notes.append(f"FAILED: {str(error).splitlines()[0][:300]}")
    return result


PASS_KINDS = ("aiohttp", "httpx", "sqlite", "postgres", "views")


def routing_passes(
    seconds: float,
    workers: list[int],
    before: Path | None = None,
    kinds: tuple[str, ...] = PASS_KINDS,
    rounds: int = 1,
) -> list[Pass]:
    """The routing passes of `kinds`; with `before`, its node (PostgreSQL) right after this
    checkout's, `rounds` times in turn, so both meet the same neighbours on a shared machine."""
    passes: list[Pass] = []
    receiver = uvicorn_server("receiver", "bench.receiver:app", {})
    with running(receiver):
        passes.append(measure("direct (receiver)", receiver, NODE_PREFIX, "Token x", seconds))
        for n in workers:
            upstream = {"BENCH_UPSTREAM": receiver.url}
            workers_text = f"{n} worker{'s' * (n > 1)}"
            if "aiohttp" in kinds:
                name = f"baseline: uvicorn + aiohttp proxy, {workers_text}"
                passes.append(proxy_pass(name, "bench.aiohttp_proxy:app", upstream, n, seconds))
            if "httpx" in kinds:
                name = f"Starlette + httpx proxy, {workers_text}"
                passes.append(proxy_pass(name, "bench.baseline_proxy:app", upstream, n, seconds))
            if "sqlite" in kinds:
                with tempfile.TemporaryDirectory() as directory:
                    url = f"sqlite:///{directory}/bench.db"
                    name = f"node SQLite, {workers_text}"
                    passes.append(node_pass(name, url, receiver.url, seconds, n))
            for round_number in range(rounds):
                suffix = f", round {round_number + 1}" if rounds > 1 else ""
                if "postgres" in kinds:
                    with postgres_schema() as url:
                        name = f"node PostgreSQL, {workers_text}{suffix}"
                        passes.append(node_pass(name, url, receiver.url, seconds, n))
                if before is not None:
                    with postgres_schema() as url:
                        name = f"node PostgreSQL BEFORE ({before.name}), {workers_text}{suffix}"
                        passes.append(node_pass(name, url, receiver.url, seconds, n, before))
            if "views" in kinds:
                with postgres_schema() as url:
                    name = f"node PostgreSQL, views process, {workers_text}"
                    views = {"OCPI_LEDGER_LEDGER_VIEWS": "process"}
                    passes.append(node_pass(name, url, receiver.url, seconds, n, settings=views))
    return passes


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(
        [load.ensure_wrk(), "-v"], capture_output=True, text=True
    ).stdout.split("\n")[0]
    with psycopg.connect(parse_database_url(POSTGRES).conninfo()) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    packages = ", ".join(
        f"{p} {version(p)}"
        for p in ("eventsourcing", "fastapi", "starlette", "uvicorn", "httpx", "psycopg")
    )
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.node()}, {cpu}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}; {packages}",
        f"- PostgreSQL {row[0] if row else '?'}; SQLite {__import__('sqlite3').sqlite_version};"
        f" {wrk_version}",
    ]


def routing_table(passes: list[Pass]) -> list[str]:
    direct = passes[0]

    def workers_of(name: str) -> str:
        return next((part for part in name.split(", ") if " worker" in part), "")

    baselines = {workers_of(p.name): p for p in passes if p.name.startswith("baseline")}
    lines = [
        "| pass | req/s at saturation | vs baseline | server CPU ms/req | CPU vs baseline "
        "| rate (paced) | p50 ms | p99 ms | p50 - direct | p99 - direct | load avg before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in passes:
        base = baselines.get(workers_of(p.name))
        if p.saturation.requests == 0:
            lines.append(f"| {p.name} | failed (see notes) |" + " |" * 9)
            continue
        ratio = f"{p.saturation.rate / base.saturation.rate:.0%}" if base else "—"
        cpu_ratio = f"{p.cpu_ms / base.cpu_ms:.2f}x" if base else "—"
        lines.append(
            f"| {p.name} | {p.saturation.rate:.0f} | {ratio} | {p.cpu_ms:.2f} | {cpu_ratio} "
            f"| {p.moderate.rate:.0f} "
            f"| {p.moderate.p50_ms:.2f} | {p.moderate.p99_ms:.2f} "
            f"| {p.moderate.p50_ms - direct.moderate.p50_ms:+.2f} "
            f"| {p.moderate.p99_ms - direct.moderate.p99_ms:+.2f} | {p.load_before} |"
        )
    notes = [f"- {p.name}: {n}" for p in passes for n in p.notes]
    return [*lines, "", *notes]


def deliverer_table(seconds: float, before: Path | None) -> list[str]:
    """`HttpDeliverer` of this checkout (and of `before`) sending to the receiver, no server in
    front: what the outbound HTTP client costs per delivery."""
    receiver = uvicorn_server("receiver-deliverer", "bench.receiver:app", {})
    checkouts = [("this checkout", REPO)] + (
        [(f"before ({before.name})", before)] if before else []
    )
    results = []
    with running(receiver):
        for name, repo in checkouts:
            try:
                results.append(deliverer.run_in(repo, name, receiver.url, seconds))
            except Exception as error:  # reported, not the end of the run
                print(f"deliverer {name} FAILED: {error}", flush=True)
    lines = [
        "32 concurrent token pushes on one uvloop event loop for "
        f"{seconds:g} s (`bench/deliverer.py`); the receiver shares the cores.",
        "",
        "| deliverer | deliveries/s | CPU ms per delivery | failed | load avg |",
        "|---|---:|---:|---:|---|",
    ]
    for result in results:
        print(f"deliverer {result.name}: {result.rate:.0f}/s {result.cpu_ms:.3f} ms", flush=True)
        lines.append(
            f"| {result.name} | {result.rate:.0f} | {result.cpu_ms:.3f} | {result.failed} "
            f"| {loadavg()} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="per wrk pass")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, e.g. 1,2")
    parser.add_argument("--skip-scale", action="store_true", help="routing passes only")
    parser.add_argument("--scale", type=float, default=1.0, help="scale benchmarks' size factor")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument(
        "--before", type=Path, help="another checkout of the repo: its node measured alongside"
    )
    parser.add_argument(
        "--only", default=",".join(PASS_KINDS), help=f"routing passes, of {','.join(PASS_KINDS)}"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="with --before: both nodes this many times in turn"
    )
    parser.add_argument("--skip-deliverer", action="store_true", help="no deliverer-alone pass")
    args = parser.parse_args(argv)
    load.ensure_wrk()
    header = machine()
    print("\n".join(header), flush=True)
    started = loadavg()
    kinds = tuple(k for k in args.only.split(",") if k)
    workers = [int(w) for w in args.workers.split(",")]
    passes = routing_passes(args.seconds, workers, args.before, kinds, args.rounds)
    sections: list[tuple[str, list[str]]] = [("Routing", routing_table(passes))]
    if not args.skip_deliverer:
        sections.append(("The deliverer alone", deliverer_table(args.seconds, args.before)))
    if not args.skip_scale:
        sections += scale.run_all(args.scale, print_line=print)
    write_results(Path(args.out), header, started, args, sections)
    return 0


def write_results(
    out: Path,
    header: list[str],
    started: str,
    args: argparse.Namespace,
    sections: list[tuple[str, list[str]]],
) -> None:
    method = load.__doc__ or ""
    text = [
        "# ocpi-ledger benchmark results",
        "",
        f"Written by `python -m bench {' '.join(sys.argv[1:])}`.",
        "",
        *header,
        f"- Load average at start: {started}; at end: {loadavg()}. The machine is shared (other "
        "engineers' test suites run on it): absolute figures are noisy, compare the ratios of "
        "one run.",
        "",
        "## Method",
        "",
        *[line.strip() for line in method.strip().splitlines()],
        "",
        "Every pass is a real process on loopback: the receiver is `bench/receiver.py` (raw ASGI "
        "under uvicorn), the baseline `bench/baseline_proxy.py` (Starlette + httpx, no ledger, no "
        "routing), the node `ocpi-ledger serve --log-level warning`. Requests are OCPI token "
        "pushes (PUT, 196-byte JSON body) eMSP → hub → CPO with all routing headers; every one "
        "is recorded in the ledger before it is forwarded.",
        "",
    ]
    for title, lines in sections:
        text += [f"## {title}", "", *lines, ""]
    out.write_text("\n".join(text))
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
