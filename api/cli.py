"""`ocpi-ledger` command line: `serve` runs the node; other commands talk to a running node."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from infrastructure.node_config import NodeConfigError, load_node_config
from infrastructure.settings import SETTING_VARIABLES, Settings, SettingsError, load_settings
from infrastructure.store import StoreUnavailableError, probe_store

# Other commands register here: name -> (configure parser, run(args) -> exit code).
COMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
] = {}


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    # Every setting is also a flag: --database-url for OCPI_LEDGER_DATABASE_URL, and so on.
    for key, (variable, _default) in SETTING_VARIABLES.items():
        flags = ["--" + key.replace("_", "-")]
        if key == "config_file":
            flags.insert(0, "--config")
        parser.add_argument(*flags, dest=key, help=variable)
    parser.add_argument("--log-level", default="info")


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(overrides={key: getattr(args, key, None) for key in SETTING_VARIABLES})


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    try:
        settings = settings_from_args(args)
        if settings.config_file:
            # Fail before serving: a broken config must not surface as a start-up traceback.
            load_node_config(settings.config_file)
        probe_store(settings.database)
    except (SettingsError, NodeConfigError, StoreUnavailableError) as error:
        print(f"ocpi-ledger: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    # Workers and the views process re-read settings from the environment.
    flags = {
        variable: str(getattr(args, key))
        for key, (variable, _default) in SETTING_VARIABLES.items()
        if getattr(args, key, None) is not None
    }
    views = None
    if settings.ledger_views == "process":
        from api import views_process

        views = views_process.start_beside(flags)
    try:
        if args.workers > 1:
            os.environ.update(flags)
            from api.serving import run_workers

            run_workers("api.main:app", args.host, args.port, args.workers, args.log_level)
            return 0
        from api.main import build_app

        app = build_app(settings)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return 0
    finally:
        if views is not None:
            views_process.stop(views)


COMMANDS["serve"] = (_configure_serve, _serve)


def _load_commands() -> None:
    """Every other command lives in a module of its own that adds itself to COMMANDS."""
    import api.cli_admin
    import api.cli_audit
    import api.demo.command
    from api import views_process

    api.cli_admin.register(COMMANDS)
    COMMANDS["views"] = (views_process.configure, views_process.run)


def main(argv: Sequence[str] | None = None) -> int:
    _load_commands()
    parser = argparse.ArgumentParser(prog="ocpi-ledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (configure, _run) in COMMANDS.items():
        configure(sub.add_parser(name))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    # Run the imported module's main, so commands registered on `api.cli` are the ones used.
    from api.cli import main as registered_main

    sys.exit(registered_main())
