"""How endpoints reach the node built in the lifespan, and the admin API's one security scheme."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import check_admin
from api.node import Node

# auto_error=False: a missing or non-Bearer header is answered by check_admin with the node's own
# 401 envelope, not FastAPI's 403 detail body.
admin_bearer = HTTPBearer(
    scheme_name="adminToken",
    description="The admin token (OCPI_LEDGER_ADMIN_TOKEN, or the one shown at first start).",
    auto_error=False,
)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)],
) -> Node:
    node = node_of(request)
    check_admin(None if credentials is None else credentials.credentials,
                node.services.admin_token_hash)  # fmt: skip
    return node


AdminNode = Annotated[Node, Depends(require_admin)]
"""The node, for an endpoint of the admin API; FastAPI runs require_admin once per request."""
