"""`ocpi-ledger demo TOPOLOGY [--database-url URL] [--keep-running]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections import Counter

import httpx

from api.cli_commands import Command, CommandError, Commands
from api.cli_settings import reachable_database
from api.demo.orchestrator import ADMIN_TOKEN, HUB_NAME, Demo
from api.demo.topologies import TOPOLOGIES, Topology
from api.demo.traffic import EXCHANGES, Exchange, Side, exchange_pair
from infrastructure.ledger_reader import read_ledger

CONCURRENT_PAIRS = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", choices=sorted(TOPOLOGIES))
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL: every node gets a schema of its own there (default: SQLite files)",
    )
    parser.add_argument("--keep-running", action="store_true", help="leave the nodes up")


async def run_traffic(demo: Demo, progress: bool = True) -> list[Exchange]:
    topology = demo.topology
    pairs = topology.trading_pairs()
    total = len(pairs) * len(EXCHANGES)
    done: list[Exchange] = []

    def show(exchange: Exchange) -> None:
        done.append(exchange)
        if progress:
            width = 30
            filled = width * len(done) // max(total, 1)
            failed = sum(not e.ok for e in done)
            sys.stdout.write(
                f"\r  [{'#' * filled}{'.' * (width - filled)}] {len(done)}/{total}"
                f" exchanges, {failed} failed"
            )
            sys.stdout.flush()

    limit = asyncio.Semaphore(CONCURRENT_PAIRS)
    async with httpx.AsyncClient(timeout=20) as client:

        async def one(emsp, cpo) -> list[Exchange]:
            async with limit:
                return await exchange_pair(
                    client,
                    Side(emsp, demo.nodes[topology.platform_of(emsp).name]),
                    Side(cpo, demo.nodes[topology.platform_of(cpo).name]),
                    show,
                )

        batches = await asyncio.gather(*(one(e, c) for e, c in pairs))
    if progress:
        print()
    return [exchange for batch in batches for exchange in batch]


def summary(demo: Demo, exchanges: list[Exchange]) -> str:
    topology: Topology = demo.topology
    lines = [f"{topology.title}", "", "exchanges (eMSP <-> CPO: route taken):"]
    by_pair: dict[tuple[str, str], list[Exchange]] = {}
    for exchange in exchanges:
        by_pair.setdefault((exchange.emsp.name, exchange.cpo.name), []).append(exchange)
    for (emsp, cpo), items in by_pair.items():
        routes = Counter(e.route or "-" for e in items)
        failed = [e for e in items if not e.ok]
        state = "ok" if not failed else f"{len(failed)} FAILED: {failed[0].name}: {failed[0].error}"
        lines.append(f"  {emsp:>6} <-> {cpo:<6} {dict(routes)}  {state}")
    lines += ["", "messages per node ledger:"]
    for name, node in demo.nodes.items():
        entries = read_ledger(node.database)
        routes = Counter(e.route or "refused" for e in entries.values())
        label = "hub" if name == HUB_NAME else name
        lines.append(f"  {label:<24} {len(entries):>4}  {dict(routes)}")
    return "\n".join(lines)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if args.database_url:
        reachable_database(args.database_url)  # before any process starts
    demo = Demo(TOPOLOGIES[args.topology], database_url=args.database_url)
    stopped = threading.Event()
    # SIGTERM (and SIGINT even where a shell started us with it ignored) stop the demo the way
    # Ctrl-C does, so the child processes are always stopped.
    # Put back afterwards: called in-process, it leaves the caller's handlers as they were.
    stopping = (signal.SIGINT, signal.SIGTERM)
    handlers = {number: signal.signal(number, _interrupt) for number in stopping}
    ok = False
    try:
        print(
            f"starting {len(demo.topology.platforms)} platforms"
            f"{' and a hub' if demo.topology.has_hub else ''} (logs in {demo.workdir})"
        )
        demo.start()
        print("connecting (credentials handshake through the admin API) ...")
        demo.connect()
        print("sample traffic:")
        exchanges = asyncio.run(run_traffic(demo))
        print(summary(demo, exchanges))
        ok = all(e.ok for e in exchanges)
        if args.keep_running:
            for name, node in demo.nodes.items():
                print(f"  {name}: {node.url} (admin token {ADMIN_TOKEN})")
            print("running; Ctrl-C stops everything")
            stopped.wait()
        return 0 if ok else 1
    except KeyboardInterrupt:
        # with --keep-running, Ctrl-C is the way to stop after a good run
        return 0 if ok and args.keep_running else 130
    except (httpx.HTTPStatusError, RuntimeError) as error:
        print()  # off the progress line
        raise CommandError(str(error)) from None
    finally:
        print("stopping ...", flush=True)
        demo.close()
        for number, handler in handlers.items():
            signal.signal(number, handler)


def register(commands: Commands) -> None:
    commands["demo"] = Command(
        "run an OCPI topology as local processes, with sample traffic",
        configure,
        run,
    )
