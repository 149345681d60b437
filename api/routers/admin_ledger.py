"""Admin API of the ledger's integrity: verify the chains (against a checkpoint too), the
node's public key, signed checkpoints. Thin: parse, call, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.admin_queries import QueryModel
from api.admin_router import OcpiAnswer, admin_router
from api.dependencies import AdminNode
from api.envelope import ocpi_response
from application.checkpoints import latest_checkpoint_status
from infrastructure.ledger_chain import verify_chains

router = admin_router(tags=["ledger"])


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: dict[str, Any] | None = Field(
        default=None, description="a signed checkpoint the chains must still reach"
    )


class CheckpointPage(QueryModel):
    limit: int = Field(default=100, ge=1, le=1000)


@router.post("/ledger/verify", response_model=OcpiAnswer)
def verify(node: AdminNode, body: VerifyRequest | None = None) -> Response:
    """Recompute both chains (messages, registry); with `{"checkpoint": {...}}`, also check
    that signed checkpoint and that the chains still reach the heads it names."""
    checkpoint = body.checkpoint if body is not None else None
    service = node.services.checkpoints
    data = verify_chains(
        [node.services.ledger_archive, node.services.registry_archive],
        checkpoint=checkpoint,
        public_key=service.signer.public_key,
    )
    return ocpi_response(data)


@router.get("/ledger/public-key", response_model=OcpiAnswer)
def public_key(node: AdminNode) -> Response:
    signer = node.services.checkpoints.signer
    return ocpi_response(
        {"algorithm": "Ed25519", "key_id": signer.key_id, "public_key_pem": signer.public_pem()}
    )


@router.get("/ledger/checkpoints", response_model=OcpiAnswer)
def checkpoints(page: Annotated[CheckpointPage, Query()], node: AdminNode) -> Response:
    return ocpi_response({"checkpoints": node.services.checkpoints.recent(page.limit)})


@router.get("/ledger/checkpoints/latest", response_model=OcpiAnswer)
def latest_checkpoint(node: AdminNode) -> Response:
    """The latest checkpoint, and whether the chains still hold the heads it names."""
    return ocpi_response(latest_checkpoint_status(node.services.checkpoints))


@router.post("/ledger/checkpoints", response_model=OcpiAnswer)
def take_checkpoint(node: AdminNode) -> Response:
    """Sign a checkpoint of the chains' heads now (and send it to the configured sink)."""
    return ocpi_response(node.services.checkpoints.take())
