"""Counterparty receipts: a partner fetches, for its own messages only, a receipt signed by the
node, with its OCPI token (scoped by nature to its connection); the operator fetches any.
Thin: authenticate, call, answer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.admin_router import OcpiAnswer, admin_router
from api.auth import authenticate
from api.dependencies import AdminNode, node_of
from api.envelope import ocpi_response, ocpi_timestamp
from api.errors import OcpiError
from api.node import Node
from application.audit import MessageQuery
from application.receipts import NotYourMessageError, issue_receipt
from domain.status_codes import ClientError

router = APIRouter(tags=["receipts"])

RECEIPTS_PATH = "/ocpi/receipts"
MAX_RECEIPTS = 10


def _receipt(node: Node, message_id: str, connection_id: str | None) -> dict[str, Any]:
    try:
        message_id = str(UUID(message_id))
    except ValueError:
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, "message id must be a UUID", http_status=400
        ) from None
    try:
        return issue_receipt(
            node.services.ledger_archive,
            node.services.checkpoints,
            message_id,
            connection_id,
            ocpi_timestamp(),
        )
    except NotYourMessageError:
        raise OcpiError(2000, f"no message {message_id} of yours", http_status=404) from None


@router.get(f"{RECEIPTS_PATH}/public-key")
def public_key(request: Request) -> Response:
    node = node_of(request)
    authenticate(request, node.routing_table)
    signer = node.services.checkpoints.signer
    return ocpi_response(
        {"algorithm": "Ed25519", "key_id": signer.key_id, "public_key_pem": signer.public_pem()}
    )


@router.get(RECEIPTS_PATH)
def receipts_by_request_id(request: Request, request_id: str = "") -> Response:
    """The receipts of the caller's messages with this X-Request-ID (as sender or receiver)."""
    node = node_of(request)
    caller = authenticate(request, node.routing_table)
    if not request_id:
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, "give request_id", http_status=400
        )
    query = MessageQuery(request_id=request_id, connection=caller.connection.id, limit=1)
    ids = node.services.audit_view.message_ids(query, MAX_RECEIPTS)
    return ocpi_response([_receipt(node, i, caller.connection.id) for i in ids])


@router.get(f"{RECEIPTS_PATH}/{{message_id}}")
def receipt(request: Request, message_id: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table)
    return ocpi_response(_receipt(node, message_id, caller.connection.id))


# The operator reads any receipt (declared like every admin endpoint).
admin = admin_router(tags=["audit"])


@admin.get("/messages/{message_id}/receipt", response_model=OcpiAnswer)
def operator_receipt(message_id: str, node: AdminNode) -> Response:
    return ocpi_response(_receipt(node, message_id, None))
