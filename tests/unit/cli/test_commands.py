"""`ocpi-ledger`: every command is described in --help, and every failure is reported the same
way, `ocpi-ledger <command>: <message>`."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import commands, main

COMMANDS = {
    "serve", "views", "invite", "connect", "connections", "parties", "suspend", "reactivate",
    "rotate", "disconnect", "leniency", "audit", "audience", "route", "redrive", "evidence",
    "traffic", "routing-table", "verify", "rebuild", "demo", "translation-policy",
}  # fmt: skip


def test_every_command_is_registered_with_a_description_of_one_line() -> None:
    registered = commands()

    assert set(registered) >= COMMANDS
    for name, command in registered.items():
        assert command.description.strip(), name
        assert "\n" not in command.description, name


def test_the_help_lists_every_command_beside_its_description(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")

    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    # argparse wraps at the terminal's width: compare the words, not the lines
    listed = " ".join(capsys.readouterr().out.split()) + " "
    for name, command in commands().items():
        assert f" {name} {command.description} " in listed, name


def test_a_command_shows_its_description_in_its_own_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["rebuild", "--help"])

    assert commands()["rebuild"].description in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("argv", "message", "exit_code"),
    [
        (
            ["serve", "--mode", "proxy"],
            "OCPI_LEDGER_MODE: must be one of hub, platform, got 'proxy'",
            2,
        ),
        (
            ["views", "--mode", "proxy"],
            "OCPI_LEDGER_MODE: must be one of hub, platform, got 'proxy'",
            2,
        ),
        (["connections"], "set OCPI_LEDGER_ADMIN_TOKEN (or --token)", 1),
        (["audit"], "set OCPI_LEDGER_ADMIN_TOKEN (or --token)", 1),
        (["route", "NL*CPO", "tokens", "receiver"], "set OCPI_LEDGER_ADMIN_TOKEN (or --token)", 1),
        (
            ["traffic", "--url", "http://127.0.0.1:1", "--token", "t"],
            "cannot reach the node at http://127.0.0.1:1",
            1,
        ),
        (["evidence", "--verify", "{tmp}/missing.json"], "cannot read {tmp}/missing.json", 1),
        (
            ["verify", "--database-url", "sqlite:///{tmp}/no/such/folder/ledger.db"],
            "--database-url: cannot open the SQLite file {tmp}/no/such/folder/ledger.db",
            1,
        ),
        (
            ["rebuild", "audit", "--database-url", "mysql://db/ledger"],
            "--database-url: unsupported database URL scheme 'mysql'",
            1,
        ),
        (
            ["demo", "p2p", "--database-url", "postgresql://postgres@127.0.0.1:1/test"],
            "--database-url: cannot connect to PostgreSQL at",
            1,
        ),
    ],
)
def test_a_failing_command_says_in_one_line_which_command_failed_and_why(
    argv: list[str],
    message: str,
    exit_code: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OCPI_LEDGER_ADMIN_TOKEN", raising=False)

    code = main([argument.format(tmp=tmp_path) for argument in argv])

    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"ocpi-ledger {argv[0]}: {message.format(tmp=tmp_path)}")
    assert code == exit_code
