"""What the demo prints after its traffic: aligned tables of the routes taken, with a legend.

Kinds are spelled as the nodes record them (`via`, or the hub's classification, in lower case).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from api.admin_client import render_table
from api.demo.traffic import EXCHANGES, Exchange

ROUTE_KINDS: dict[str, str] = {
    "local": "between the node and a party it hosts (that party's backend)",
    "direct": "over the node's own connection to the node hosting the receiver",
    "hub": "to the hub, which forwards it to the node hosting the receiver",
    "broadcast": "by the hub to every party of the receiving role",
    "get_all": "by the hub from its store, the objects of every party",
    "hub_receiver_get": "by the hub from its store, its copy of the owner's object",
    "refused": "answered by the node itself: nothing was forwarded",
    "none": "no route: the exchange failed before a node chose one",
}
"""In the order the tables' columns take; a kind not listed here comes after, unexplained."""


def route_kind(recorded: str | None) -> str:
    return recorded.lower() if recorded else "none"


def _ordered(kinds: Iterable[str]) -> list[str]:
    known = list(ROUTE_KINDS)
    return sorted(set(kinds), key=lambda k: (known.index(k) if k in known else len(known), k))


def _count(counts: Counter[str], kind: str) -> str:
    return str(counts[kind]) if counts[kind] else "-"


def exchanges_table(exchanges: list[Exchange]) -> str:
    """One row per eMSP/CPO pair: how many of its exchanges took each route, and the result."""
    by_pair: dict[tuple[str, str], list[Exchange]] = {}
    for exchange in exchanges:
        by_pair.setdefault((exchange.emsp.name, exchange.cpo.name), []).append(exchange)
    kinds = _ordered(route_kind(e.route) for e in exchanges)
    rows = []
    for (emsp, cpo), items in by_pair.items():
        counts = Counter(route_kind(e.route) for e in items)
        failed = sum(not e.ok for e in items)
        row = {"emsp": emsp, "cpo": cpo} | {kind: _count(counts, kind) for kind in kinds}
        rows.append(row | {"result": "ok" if not failed else f"{failed} FAILED"})
    lines = [render_table(rows, ("emsp", "cpo", *kinds, "result"))]
    for exchange in exchanges:
        if not exchange.ok:
            lines.append(
                f"  FAILED {exchange.emsp.name} <-> {exchange.cpo.name} {exchange.name}: "
                f"{' '.join(exchange.error.split())}"
            )
    return "\n".join(lines)


def ledgers_table(routes_by_node: Mapping[str, Counter[str]]) -> str:
    """One row per node: the messages its ledger holds, by the route kind it recorded."""
    kinds = _ordered(kind for counts in routes_by_node.values() for kind in counts)
    rows = [
        {"node": node, "messages": str(sum(counts.values()))}
        | {kind: _count(counts, kind) for kind in kinds}
        for node, counts in routes_by_node.items()
    ]
    return render_table(rows, ("node", "messages", *kinds))


def legend(kinds: Iterable[str]) -> str:
    shown = _ordered(kinds)
    width = max((len(k) for k in shown), default=0)
    return "\n".join(
        f"  {kind:<{width}}  {ROUTE_KINDS.get(kind, 'as the node recorded it')}" for kind in shown
    )


def report(
    title: str, exchanges: list[Exchange], routes_by_node: Mapping[str, Counter[str]]
) -> str:
    kinds = [route_kind(e.route) for e in exchanges]
    kinds += [kind for counts in routes_by_node.values() for kind in counts]
    return "\n".join(
        [
            title,
            "",
            "exchanges per eMSP/CPO pair, by the route the sender's node took",
            f"(each pair: {', '.join(EXCHANGES)}):",
            exchanges_table(exchanges),
            "",
            "messages in each node's ledger, by the route it recorded:",
            ledgers_table(routes_by_node),
            "",
            "routes:",
            legend(kinds),
        ]
    )
