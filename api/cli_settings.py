"""The node's settings as flags: `serve` and `views` take every OCPI_LEDGER_* variable as a flag
too (--database-url for OCPI_LEDGER_DATABASE_URL, and so on), a flag winning over the variable."""

from __future__ import annotations

import argparse

from api.cli_commands import CommandError
from infrastructure.database_url import DatabaseUrl, DatabaseUrlError, parse_database_url
from infrastructure.settings import SETTING_VARIABLES, Settings, load_settings
from infrastructure.store import StoreUnavailableError, probe_store


def add_setting_flags(parser: argparse.ArgumentParser, config_alias: bool = False) -> None:
    for key, (variable, _default) in SETTING_VARIABLES.items():
        flags = ["--" + key.replace("_", "-")]
        if config_alias and key == "config_file":
            flags.insert(0, "--config")
        parser.add_argument(*flags, dest=key, help=variable)


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(overrides={key: getattr(args, key, None) for key in SETTING_VARIABLES})


def reachable_database(url: str) -> DatabaseUrl:
    """A `--database-url` of a command that works on the database itself (no node), checked the
    way `serve` checks its own before it starts."""
    try:
        database = parse_database_url(url)
        probe_store(database)
    except (DatabaseUrlError, StoreUnavailableError) as error:
        # The probe names the setting; here the URL came from the flag.
        cause = str(error).removeprefix("OCPI_LEDGER_DATABASE_URL: ")
        raise CommandError(f"--database-url: {cause}") from None
    return database
