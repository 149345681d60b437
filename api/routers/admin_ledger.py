"""Admin API of the ledger's integrity: verify the chains (against a checkpoint too), the
node's public key, signed checkpoints. Thin: parse, call, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response

from api.checkpoints_setup import CHECKPOINTS, REGISTRY_ARCHIVE
from api.dependencies import require_admin
from api.envelope import INVALID_PARAMETERS, ocpi_response
from api.errors import OcpiError
from api.node import Node
from application.checkpoints import latest_checkpoint_status
from infrastructure.ledger_chain import verify_chains

router = APIRouter(prefix="/admin/ledger", tags=["ledger"])

Admin = Annotated[Node, Depends(require_admin)]


@router.post("/verify")
def verify(node: Admin, body: Annotated[dict[str, Any] | None, Body()] = None) -> Response:
    """Recompute both chains (messages, registry); with `{"checkpoint": {...}}`, also check
    that signed checkpoint and that the chains still reach the heads it names."""
    checkpoint = (body or {}).get("checkpoint")
    if checkpoint is not None and not isinstance(checkpoint, dict):
        raise OcpiError(INVALID_PARAMETERS, "checkpoint must be a JSON object", http_status=400)
    service = node.services[CHECKPOINTS]
    data = verify_chains(
        [node.services["ledger_archive"], node.services[REGISTRY_ARCHIVE]],
        checkpoint=checkpoint,
        public_key=service.signer.public_key,
    )
    return ocpi_response(data)


@router.get("/public-key")
def public_key(node: Admin) -> Response:
    signer = node.services[CHECKPOINTS].signer
    return ocpi_response(
        {"algorithm": "Ed25519", "key_id": signer.key_id, "public_key_pem": signer.public_pem()}
    )


@router.get("/checkpoints")
def checkpoints(node: Admin, limit: int = 100) -> Response:
    if not 1 <= limit <= 1000:
        raise OcpiError(INVALID_PARAMETERS, "limit must be 1..1000", http_status=400)
    return ocpi_response({"checkpoints": node.services[CHECKPOINTS].recent(limit)})


@router.get("/checkpoints/latest")
def latest_checkpoint(node: Admin) -> Response:
    """The latest checkpoint, and whether the chains still hold the heads it names."""
    return ocpi_response(latest_checkpoint_status(node.services[CHECKPOINTS]))


@router.post("/checkpoints")
def take_checkpoint(node: Admin) -> Response:
    """Sign a checkpoint of the chains' heads now (and send it to the configured sink)."""
    return ocpi_response(node.services[CHECKPOINTS].take())
