"""`/health`: is the store reachable, and how far is each projection."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.dependencies import node_of

router = APIRouter()


@router.get("/health")
def health(request: Request) -> JSONResponse:
    node = node_of(request)
    registry_ok = node.store.registry_db.ping()
    ledger_ok = node.store.ledger_db.ping()
    projections = {
        name: {"position": runner.position, "error": runner.last_error}
        for name, runner in node.runners.items()
    }
    healthy = registry_ok and ledger_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "store": {
            "kind": node.store.url.kind,
            "registry": "reachable" if registry_ok else "unreachable",
            "ledger": "reachable" if ledger_ok else "unreachable",
        },
        "mode": node.settings.mode,
        "party": str(node.settings.party),
        "projections": projections,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
