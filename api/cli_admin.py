"""Admin subcommands of `ocpi-ledger`: talk to a running node's /admin API.

Node URL from OCPI_LEDGER_URL (default http://127.0.0.1:8000), admin token from
OCPI_LEDGER_ADMIN_TOKEN. Tables for people, `--json` for scripts. Exit 0 ok, 1 refused, 2 usage.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from api.admin_client import admin_call, render_table
from api.cli_commands import Command, Commands

CONNECTION_COLUMNS = (
    "id",
    "label",
    "status",
    "version",
    "proposed_version",
    "leniency",
    "refuse_losing",
    "parties",
    "status_reason",
)
VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
PARTY_COLUMNS = ("country_code", "party_id", "role", "status", "kind", "connection_id", "local")


def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return admin_call(method, f"/admin{path}", body=body, timeout=60)


def cell(value: Any) -> str:
    if isinstance(value, list):
        shown = (
            item
            if isinstance(item, str)
            else f"{item['country_code']}*{item['party_id']}/{item['role']}"
            for item in value
        )
        return ",".join(shown) or "-"
    return "-" if value is None else str(value)


def table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    return render_table(rows, columns, cell)


def show(args: argparse.Namespace, payload: Any, columns: tuple[str, ...]) -> None:
    if args.json:
        print(json.dumps(payload, indent=2))
        return
    rows = payload if isinstance(payload, list) else [payload]
    print(table(rows, columns))


def _invite(args: argparse.Namespace) -> None:
    body = {"label": args.label, "leniency": args.leniency, **_proposal(args)}
    created = call("POST", "/invitations", body)
    if args.json:
        print(json.dumps(created, indent=2))
        return
    print(f"connection:   {created['id']}")
    print(f"versions URL: {created['versions_url']}")
    print(f"token A:      {created['token_a']}  (give it to the peer out of band; shown once)")


def _connect(args: argparse.Namespace) -> None:
    body = {"versions_url": args.url, "token_a": args.token_a, **_proposal(args)}
    if args.label:
        body["label"] = args.label
    show(args, call("POST", "/connections", body), CONNECTION_COLUMNS)


def _proposal(args: argparse.Namespace) -> dict[str, str]:
    """The OCPI version (and, for 2.1.1, the peer's role) the connection is to speak."""
    proposal = {}
    if args.ocpi_version:
        proposal["ocpi_version"] = args.ocpi_version
    if args.role:
        proposal["role"] = args.role
    return proposal


def _leniency(args: argparse.Namespace) -> None:
    body = {"leniency": args.leniency}
    if args.reason:
        body["reason"] = args.reason
    show(args, call("PUT", f"/connections/{args.id}/leniency", body), CONNECTION_COLUMNS)


def _translation_policy(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"refuse_losing": list(args.refuse_losing)}
    if args.reason:
        body["reason"] = args.reason
    answer = call("PUT", f"/connections/{args.id}/translation-policy", body)
    if args.json:
        print(json.dumps(answer, indent=2))
        return
    fields = ", ".join(answer["refuse_losing"]) or "(none: every translation is made)"
    print(
        f"connection {answer['connection_id']} (OCPI {answer['version']}) refuses losing: {fields}"
    )


def _by_id(method: str, suffix: str) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        body = {"reason": args.reason} if getattr(args, "reason", None) else None
        show(args, call(method, f"/connections/{args.id}{suffix}", body), CONNECTION_COLUMNS)

    return run


SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace], None], tuple[str, ...]]] = {
    "invite": (
        "issue a Token A for a peer to register with",
        _invite,
        ("--label", "--invite-leniency", "--ocpi-version"),
    ),
    "connect": (
        "register with a peer given its versions URL and Token A",
        _connect,
        ("url", "--label", "--ocpi-version"),
    ),
    "connections": (
        "list connections",
        lambda a: show(a, call("GET", "/connections"), CONNECTION_COLUMNS),
        (),
    ),
    "parties": (
        "list the routing table",
        lambda a: show(a, call("GET", "/parties"), PARTY_COLUMNS),
        (),
    ),
    "suspend": ("suspend a connection", _by_id("POST", "/suspend"), ("id", "--reason")),
    "reactivate": ("reactivate a connection", _by_id("POST", "/reactivate"), ("id", "--reason")),
    "rotate": ("rotate the tokens of a connection", _by_id("POST", "/rotate-token"), ("id",)),
    "disconnect": ("unregister a connection", _by_id("DELETE", ""), ("id",)),
    "leniency": (
        "set how a connection takes a peer's sloppy requests",
        _leniency,
        ("id", "--leniency", "--reason"),
    ),
    "translation-policy": (
        "set the fields whose loss in a version translation refuses a connection's messages",
        _translation_policy,
        ("id", "--refuse-losing", "--reason"),
    ),
}


def _configure(name: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.description = SUBCOMMANDS[name][0]
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        for argument in SUBCOMMANDS[name][2]:
            if argument == "--label":
                parser.add_argument("--label", default="peer" if name == "invite" else None)
            elif argument == "--leniency":
                parser.add_argument(
                    "leniency",
                    choices=("lenient", "strict"),
                    help="lenient: take them where unambiguous; strict: refuse them (2001)",
                )
            elif argument == "--invite-leniency":
                parser.add_argument(
                    "--leniency",
                    choices=("lenient", "strict"),
                    default="lenient",
                    help="strict refuses the peer's sloppy requests with 2001 (default lenient)",
                )
            elif argument == "--ocpi-version":
                parser.add_argument(
                    "--ocpi-version",
                    choices=VERSIONS,
                    help="the OCPI version the peer is to speak (default: 2.2.1 if it offers "
                    "it, else the highest both do)",
                )
                parser.add_argument(
                    "--role",
                    choices=("CPO", "EMSP"),
                    help="OCPI 2.1.1 only, and required there: the peer's role",
                )
            elif argument == "--refuse-losing":
                parser.add_argument(
                    "refuse_losing",
                    nargs="*",
                    metavar="MODULE.FIELD",
                    help="e.g. tariffs.min_price commands.token.group_id; none clears the policy",
                )
            elif argument == "--reason":
                parser.add_argument("--reason")
            else:
                parser.add_argument(argument)
        if name == "connect":
            parser.add_argument("token_a")

    return configure


def _runner(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        SUBCOMMANDS[name][1](args)  # a refusal raises AdminCallError: `ocpi-ledger` prints it
        return 0

    return run


def register(commands: Commands) -> None:
    for name, (description, _run, _arguments) in SUBCOMMANDS.items():
        commands[name] = Command(description, _configure(name), _runner(name))
