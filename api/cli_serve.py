"""`ocpi-ledger serve`: run the node under uvicorn (one process, or several workers)."""

from __future__ import annotations

import argparse
import logging
import os

from api import views_process
from api.cli_commands import Command, CommandError, Commands
from api.cli_settings import add_setting_flags, settings_from_args
from infrastructure.node_config import NodeConfigError, load_node_config
from infrastructure.settings import SETTING_VARIABLES, SettingsError
from infrastructure.store import StoreUnavailableError, probe_store


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    add_setting_flags(parser, config_alias=True)
    parser.add_argument("--log-level", default="info")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    try:
        settings = settings_from_args(args)
        if settings.config_file:
            # Fail before serving: a broken config must not surface as a start-up traceback.
            load_node_config(settings.config_file)
        probe_store(settings.database)
    except (SettingsError, NodeConfigError, StoreUnavailableError) as error:
        raise CommandError(str(error), exit_code=2) from None
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    # Workers and the views process re-read settings from the environment.
    flags = {
        variable: str(getattr(args, key))
        for key, (variable, _default) in SETTING_VARIABLES.items()
        if getattr(args, key, None) is not None
    }
    views = None
    if settings.ledger_views == "process":
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


def register(commands: Commands) -> None:
    commands["serve"] = Command("run the node: the OCPI and admin APIs over HTTP", configure, run)
