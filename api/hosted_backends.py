"""The hosted backends as the API sees them: where start-up keeps them on the node, and telling a
backend's call from a connection's.

The egress endpoint (api/platform.py), the routed endpoints (api/routed_front.py, for async
results posted back) and the refusal of unknown endpoints (api/routers/routing.py) all ask who
is calling, so it is here, below them.
"""

from __future__ import annotations

from fastapi import Request

from api.node import Node
from application.local_backends import LocalBackend, LocalBackends
from application.routing_table import ConnectionEntry
from domain.headers import parse_token_header
from domain.values import ConnectionStatus, Way


def backend_caller(node: Node, request: Request) -> tuple[ConnectionEntry, LocalBackend] | None:
    """A hosted backend calling (egress or an async result), as the pseudo connection "local"."""
    return backend_of_header(node, request.headers.get("authorization") or "")


def backend_of_header(
    node: Node, authorization: str
) -> tuple[ConnectionEntry, LocalBackend] | None:
    """`backend_caller` from the Authorization header's value (the raw ASGI routing path)."""
    backends: LocalBackends | None = node.services.backends
    if not backends:
        return None
    backend = backends.by_token(parse_token_header(authorization))
    if backend is None:
        return None
    connection = ConnectionEntry(
        id=Way.LOCAL,
        label=f"backend {backend.versions_url}",
        initiated_by="us",
        status=ConnectionStatus.CONNECTED,
        roles=backend.parties,
    )
    return connection, backend
