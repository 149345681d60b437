"""Checks shared by the platform end-to-end tests: where each exchange landed, what ledgers hold."""

from __future__ import annotations

import httpx

from api.demo.orchestrator import Demo
from api.demo.topologies import PartySpec
from api.demo.traffic import Exchange
from infrastructure.ledger_reader import read_ledger

# who receives each exchange of api/demo/traffic.py: the eMSP or the CPO
RECEIVER = {
    "location push": "emsp",
    "token push": "cpo",
    "location GET": "cpo",
    "command": "cpo",
    "CDR": "emsp",
}


def receiver_of(exchange: Exchange) -> PartySpec:
    return exchange.emsp if RECEIVER[exchange.name] == "emsp" else exchange.cpo


def addressed_parties(demo: Demo) -> dict[str, set[tuple[str, str]]]:
    """Correlation id -> the parties the backends were addressed as (from their request logs)."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for node in demo.nodes.values():
        if not node.parties:
            continue
        for entry in httpx.get(f"{node.backend_url}/_sim/log", timeout=10).json():
            correlation = {k.lower(): v for k, v in entry["headers"].items()}.get(
                "x-correlation-id"
            )
            party = entry.get("addressed_party")
            if correlation and party:
                seen.setdefault(correlation, set()).add((party["country_code"], party["party_id"]))
    return seen


def assert_delivered_to_the_addressed_party(demo: Demo, exchanges: list[Exchange]) -> None:
    seen = addressed_parties(demo)
    for exchange in exchanges:
        assert exchange.ok, (
            f"{exchange.emsp.name}<->{exchange.cpo.name} {exchange.name}: {exchange.error}"
        )
        target = receiver_of(exchange).ref
        # the command's async result goes back to the eMSP under the same correlation id
        expected = {target} | ({exchange.emsp.ref} if exchange.name == "command" else set())
        assert seen.get(exchange.correlation_id) == expected, exchange


def ledgers(demo: Demo) -> dict[str, dict[str, set[str]]]:
    """Node name -> correlation id -> routes recorded for it."""
    found: dict[str, dict[str, set[str]]] = {}
    for name, node in demo.nodes.items():
        per_node: dict[str, set[str]] = {}
        for entry in read_ledger(node.database).values():
            per_node.setdefault(entry.correlation_id, set()).add(entry.route or "refused")
        found[name] = per_node
    return found
