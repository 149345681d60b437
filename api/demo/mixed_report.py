"""What `ocpi-ledger demo hub-mixed-versions` prints: what went where (each message, its sender
and receivers with their versions, the outcome) and, read back from the hub's ledger through its
admin API, every translation the hub made with what it lost (a compact table)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx

from api.admin_client import render_table
from api.demo.mixed_traffic import NOT_EXCHANGED, Sent
from api.demo.mixed_versions import ADMIN, MixedVersionsDemo
from api.demo.orchestrator import HUB_NAME

LEDGER_WAIT_S = 15.0
MAX_LOSSES_SHOWN = 4


def _who(demo: MixedVersionsDemo, name: str) -> str:
    if name == HUB_NAME:
        return "hub (from its store)"
    return f"{name} ({demo.simulator(name).version})"


def traffic_table(demo: MixedVersionsDemo, sent: list[Sent]) -> str:
    rows = []
    for message in sent:
        outcome = "ok" if message.ok else f"FAILED {message.error[:60]}"
        if message.ok and message.result is not None:
            outcome += f", result {message.result.get('result', '?')}"
        rows.append(
            {
                "message": message.name,
                "id": message.object_id,
                "from": _who(demo, message.sender),
                "to": ", ".join(_who(demo, r) for r in message.receivers),
                "outcome": outcome,
            }
        )
    return render_table(rows, ("message", "id", "from", "to", "outcome"))


def ledger_messages(demo: MixedVersionsDemo, expected: int) -> list[dict[str, Any]]:
    """The hub's audit rows, once its projection holds `expected` messages (or after a wait)."""
    deadline = time.monotonic() + LEDGER_WAIT_S
    while True:
        rows = httpx.get(
            f"{demo.hub.url}/admin/messages", params={"limit": 500}, headers=ADMIN, timeout=10
        ).json()["data"]["messages"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return list(reversed(rows))  # oldest first
        time.sleep(0.1)


def translations(demo: MixedVersionsDemo, expected: int) -> list[dict[str, Any]]:
    """One row per translated leg or answer in the hub's ledger."""
    rows: list[dict[str, Any]] = []
    for message in ledger_messages(demo, expected):
        timeline = httpx.get(
            f"{demo.hub.url}/admin/messages/{message['id']}", headers=ADMIN, timeout=10
        ).json()["data"]
        request = timeline["request"]
        module = request.get("module") or "?"
        sender = request.get("from_party") or "?"
        for leg in timeline.get("legs") or []:
            target = leg.get("target_party") or "?"
            answer = (leg.get("result") or {}).get("translation")
            for what, record, a, b in (
                ("request", leg.get("translation"), sender, target),
                ("answer", answer, target, sender),
            ):
                if record:
                    rows.append(_row(module, what, a, b, record))
    return rows


def _row(
    module: str, what: str, sender: str, receiver: str, record: dict[str, Any]
) -> dict[str, str]:
    losses = record.get("losses") or []
    shown = [f"{loss['path']} {loss['kind']}" for loss in losses[:MAX_LOSSES_SHOWN]]
    if len(losses) > MAX_LOSSES_SHOWN:
        shown.append(f"+{len(losses) - MAX_LOSSES_SHOWN} more")
    if record.get("refused"):
        shown.insert(0, f"NOT TRANSLATED ({record['refused'][:40]})")
    return {
        "module": module,
        "leg": what,
        "from": sender,
        "to": receiver,
        "versions": f"{record['source_version']}->{record['target_version']}",
        "lost": str(len(losses)),
        "losses": ", ".join(shown) or "-",
    }


def loss_free(rows: list[dict[str, Any]]) -> str:
    """The translations that lost nothing, counted per pair of versions."""
    counts = Counter(row["versions"] for row in rows if row["lost"] == "0")
    return ", ".join(f"{versions} x{n}" for versions, n in sorted(counts.items())) or "none"


def report(demo: MixedVersionsDemo, sent: list[Sent]) -> str:
    expected = len(sent) + sum(1 for s in sent if s.result is not None)  # results cross too
    found = translations(demo, expected)
    lossy = [row for row in found if row["lost"] != "0"]
    not_exchanged = [f"  {module}: not exchanged: {why}" for module, why in NOT_EXCHANGED.items()]
    return "\n".join(
        [
            demo.topology.title,
            "",
            "what went where (each platform speaks its own OCPI version; all through the hub):",
            traffic_table(demo, sent),
            *not_exchanged,
            "",
            f"translations in the hub's ledger: {len(found)}, {len(lossy)} with losses (the first"
            f" {MAX_LOSSES_SHOWN} of each shown; all: GET /admin/messages/{{id}}):",
            render_table(lossy, ("module", "leg", "from", "to", "versions", "lost", "losses")),
            f"  lost nothing: {loss_free(found)}",
        ]
    )
