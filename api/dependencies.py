"""How endpoints reach the node built in the lifespan."""

from __future__ import annotations

from fastapi import Request

from api.auth import check_admin
from api.node import Node


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def require_admin(request: Request) -> Node:
    node = node_of(request)
    check_admin(request, node.services["admin_token_hash"])
    return node
