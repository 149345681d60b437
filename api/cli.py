"""`ocpi-ledger` command line: `serve` runs the node; other commands talk to a running node."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api import cli_admin, cli_audit, cli_serve, views_process
from api.cli_commands import CommandError, Commands
from api.demo import command as demo_command

# Each module adds its own commands; `--help` lists them in this order.
COMMAND_MODULES = (cli_serve, views_process, cli_admin, cli_audit, demo_command)


def commands() -> Commands:
    registered: Commands = {}
    for module in COMMAND_MODULES:
        module.register(registered)
    return registered


def main(argv: Sequence[str] | None = None) -> int:
    available = commands()
    parser = argparse.ArgumentParser(prog="ocpi-ledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in available.items():
        command.configure(
            sub.add_parser(name, help=command.description, description=command.description)
        )
    args = parser.parse_args(argv)
    try:
        return available[args.command].run(args)
    except CommandError as error:
        print(f"ocpi-ledger {args.command}: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
