"""`/health`: is the store reachable, and how far behind is each projection.

It answers within `DEADLINE` seconds whatever the store does: the checks run on a thread of
their own (never the pool that routed requests use), a connection is waited for briefly, and a
check that has not returned by the deadline is reported as such (503) while it is left to end by
itself. While the store is down, projection positions are the last ones read.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.dependencies import node_of
from api.node import Node

DEADLINE = 1.5
"""Seconds /health waits for its checks (the promise to callers is an answer within 2 s)."""
CONNECT_WAIT = 0.6
"""Seconds each store check waits for a pooled connection."""

router = APIRouter()


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    node = node_of(request)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        report = await asyncio.wait_for(
            asyncio.shield(loop.run_in_executor(node.health.checks, _check, node)), DEADLINE
        )
    except TimeoutError:
        report = _unanswered(node, time.monotonic() - started)
    status = 200 if report["status"] == "ok" else 503
    return JSONResponse(report, status_code=status)


def _check(node: Node) -> dict[str, Any]:
    registry_ok = node.store.registry_db.ping(CONNECT_WAIT)
    ledger_ok = node.store.ledger_db.ping(CONNECT_WAIT)
    healthy = registry_ok and ledger_ok
    if healthy:
        node.health.projections = _projections(node)
    reasons = [
        f"the {name} store does not answer"
        for name, ok in (("registry", registry_ok), ("ledger", ledger_ok))
        if not ok
    ]
    return _report(
        node,
        "ok" if healthy else "unavailable",
        {
            "registry": "reachable" if registry_ok else "unreachable",
            "ledger": "reachable" if ledger_ok else "unreachable",
        },
        reasons,
    )


def _projections(node: Node) -> dict[str, Any]:
    heads: dict[str, int] = {}
    projections: dict[str, Any] = {}
    for name, runner in node.runners.items():
        position = runner.position
        entry: dict[str, Any] = {"position": position, "error": runner.last_error}
        source = getattr(runner, "source", None)
        if source is not None:
            if source.name not in heads:
                heads[source.name] = source.recorder.max_notification_id() or 0
            entry["lag"] = max(0, heads[source.name] - position)
        projections[name] = entry
    return projections


def _unanswered(node: Node, waited: float) -> dict[str, Any]:
    reason = f"the store did not answer within {waited:.1f} s"
    return _report(node, "unavailable", {"registry": "unknown", "ledger": "unknown"}, [reason])


def _report(
    node: Node, status: str, reachable: dict[str, str], reasons: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": status,
        "store": {"kind": node.store.url.kind, **reachable},
        "mode": node.settings.mode,
        "party": str(node.settings.party),
        "projections": node.health.projections,
    }
    if reasons:
        body["reason"] = "; ".join(reasons)
        body["projections_as_of"] = "the last check that reached the store"
    return body
