"""`ocpi-ledger views`: follows the ledger's read models (audit, traffic) in a process of its own.

The routing process is bound by CPU and the GIL; the audit and traffic projections decode and
write every routed event, about a fifth of a node's CPU. Run here instead, they take the other
core, and the routing process only reads the views. `serve --ledger-views process` starts this
command beside itself and stops it on exit; with `external` the operator runs it, e.g. once for
several nodes that share one PostgreSQL.

It follows the ledger like the node's own runners do (exactly-once by compare-and-set of the
view's position), woken by PostgreSQL LISTEN, or polling a SQLite file every 0.2 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading

from api.audit_setup import LEDGER_VIEW_INTERVAL, ledger_view_runner, ledger_views
from api.cli_commands import Command, CommandError, Commands
from api.cli_settings import add_setting_flags, settings_from_args
from api.serving import quiet_collector
from infrastructure.projection_runner import PostgresChangeListener, ProjectionRunner
from infrastructure.settings import Settings, SettingsError
from infrastructure.sql import startup_lock
from infrastructure.store import StoreUnavailableError, open_store, probe_store

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0


def follow_ledger(settings: Settings, stopping: threading.Event, parent_pid: int = 0) -> None:
    """Keep the ledger's views up to date until `stopping` is set (or the parent is gone)."""
    while True:
        try:
            with startup_lock(settings.database):
                store = open_store(settings.database)
                views = ledger_views(store, settings)
            break
        except Exception as error:  # the store is not reachable yet: the node waits for it too
            log.warning("cannot open the store yet (%s); retrying", error)
            if stopping.wait(2.0):
                return
    postgres = settings.database.is_postgres
    poll = 1.0 if postgres else LEDGER_VIEW_INTERVAL
    runners: list[ProjectionRunner] = [
        ledger_view_runner(store, projection, view, poll) for projection, view in views
    ]
    listener: PostgresChangeListener | None = None
    try:
        for runner in runners:
            runner.start()
        if postgres:
            listener = PostgresChangeListener(
                settings.database.conninfo(),
                [f"{store.ledger.name}_events"],
                lambda _channel: wake_all(runners),
            ).start()
        log.info("following the ledger's views: %s", ", ".join(r.name for r in runners))
        while not stopping.wait(PARENT_CHECK_SECONDS):
            # Orphaned (the node was killed -9): a views process must not outlive its node.
            if parent_pid and os.getppid() != parent_pid:
                log.warning("the node (pid %d) is gone; stopping", parent_pid)
                return
    finally:
        if listener is not None:
            listener.stop()
        for runner in runners:
            runner.stop()
        store.close()


def start_beside(settings_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `ocpi-ledger views` as a child of this process, with the node's settings."""
    command = [sys.executable, "-m", "api.cli", "views", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(command, env={**os.environ, **settings_env})


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def configure(parser: argparse.ArgumentParser) -> None:
    add_setting_flags(parser)
    parser.add_argument("--parent-pid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--log-level", default="info")


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        probe_store(settings.database)
    except (SettingsError, StoreUnavailableError) as error:
        raise CommandError(str(error), exit_code=2) from None
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())
    quiet_collector()  # this process only: tests call follow_ledger in theirs
    follow_ledger(settings, stopping, args.parent_pid)
    return 0


def register(commands: Commands) -> None:
    commands["views"] = Command(
        "apply the audit and traffic views in a process of their own", configure, run
    )


def wake_all(runners: list[ProjectionRunner]) -> None:
    for runner in runners:
        runner.wake()
