"""`ocpi-ledger demo TOPOLOGY [--database-url URL] [--keep-running] [--keep]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from api.cli_commands import Command, CommandError, Commands
from api.cli_settings import reachable_database
from api.demo.mixed_report import report as mixed_report
from api.demo.mixed_traffic import MESSAGES as MIXED_MESSAGES
from api.demo.mixed_traffic import run_mixed_traffic
from api.demo.mixed_versions import MixedVersionsDemo
from api.demo.orchestrator import Demo
from api.demo.report import report
from api.demo.topologies import MIXED_VERSIONS, TOPOLOGIES
from api.demo.traffic import EXCHANGES, Exchange, Side, exchange_pair
from infrastructure.ledger_reader import read_ledger

CONCURRENT_PAIRS = 4


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topology", choices=sorted([*TOPOLOGIES, MIXED_VERSIONS.name]))
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL: every node gets a schema of its own there (default: SQLite files)",
    )
    parser.add_argument("--keep-running", action="store_true", help="leave the nodes up")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, SQLite files)"
    )


class Outcome(Protocol):
    @property
    def ok(self) -> bool: ...


def progress_bar(total: int, shown: bool, unit: str) -> Callable[[Outcome], None]:
    """A callback drawing `[####....] n/total {unit}, f failed` on one line as outcomes come."""
    done: list[Outcome] = []

    def show(outcome: Outcome) -> None:
        done.append(outcome)
        if shown:
            width = 30
            filled = width * len(done) // max(total, 1)
            failed = sum(not e.ok for e in done)
            sys.stdout.write(
                f"\r  [{'#' * filled}{'.' * (width - filled)}] {len(done)}/{total}"
                f" {unit}, {failed} failed"
            )
            sys.stdout.flush()

    return show


async def run_traffic(demo: Demo, progress: bool = True) -> list[Exchange]:
    topology = demo.topology
    pairs = topology.trading_pairs()
    show = progress_bar(len(pairs) * len(EXCHANGES), progress, "exchanges")

    limit = asyncio.Semaphore(CONCURRENT_PAIRS)
    async with httpx.AsyncClient(timeout=20) as client:

        async def one(emsp: Any, cpo: Any) -> list[Exchange]:
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
    routes_by_node = {}
    for name, node in demo.nodes.items():
        # a message without a routing decision was refused before one was made
        entries = read_ledger(node.database).values()
        routes_by_node[name] = Counter((e.route or "refused").lower() for e in entries)
    return report(demo.topology.title, exchanges, routes_by_node)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def traffic_and_report(demo: Demo) -> tuple[bool, str]:
    """Run the demo's sample traffic; whether all of it went well, and what to print."""
    if isinstance(demo, MixedVersionsDemo):
        show = progress_bar(MIXED_MESSAGES, True, "messages")
        sent = asyncio.run(run_mixed_traffic(demo, show))
        print()
        return all(s.ok for s in sent), mixed_report(demo, sent)
    exchanges = asyncio.run(run_traffic(demo))
    return all(e.ok for e in exchanges), summary(demo, exchanges)


def run(args: argparse.Namespace) -> int:
    if args.database_url:
        reachable_database(args.database_url)  # before any process starts
    demo: Demo
    if args.topology == MIXED_VERSIONS.name:
        demo = MixedVersionsDemo(database_url=args.database_url, keep_workdir=args.keep)
    else:
        topology = TOPOLOGIES[args.topology]
        demo = Demo(topology, database_url=args.database_url, keep_workdir=args.keep)
    stopped = threading.Event()
    # SIGTERM (and SIGINT even where a shell started us with it ignored) stop the demo the way
    # Ctrl-C does, so the child processes are always stopped.
    # Put back afterwards: called in-process, it leaves the caller's handlers as they were.
    stopping = (signal.SIGINT, signal.SIGTERM)
    handlers = {number: signal.signal(number, _interrupt) for number in stopping}
    ok = False
    try:
        kept = "kept" if args.keep else "removed on exit; --keep keeps them"
        print(
            f"starting {len(demo.topology.platforms)} platforms"
            f"{' and a hub' if demo.topology.has_hub else ''} (logs in {demo.workdir}, {kept})"
        )
        demo.start()
        print("connecting (credentials handshake through the admin API) ...")
        demo.connect()
        print("sample traffic:")
        ok, printed = traffic_and_report(demo)
        print(printed)
        if args.keep_running:
            for line in demo.addresses():
                print(f"  {line}")
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
