"""What an `ocpi-ledger` command is, and the one way every command reports a failure.

Each command module has a `register(commands)` that adds its commands by name; `api/cli.py`
imports the modules and calls it, so no command module imports the entry point.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    description: str
    """One line: `ocpi-ledger --help` lists it beside the name."""
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    """The exit code; or raise CommandError."""


Commands = dict[str, Command]


class CommandError(Exception):
    """What a command could not do, fit to show an operator; `ocpi-ledger` prints it as
    `ocpi-ledger <command>: <message>` and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
