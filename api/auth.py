"""Who is calling: OCPI `Authorization: Token ...` to a connection, `Bearer` to the admin API."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from api.errors import Unauthorized
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from application.tokens import hash_token
from domain.headers import parse_token_header


@dataclass(frozen=True)
class Caller:
    connection: ConnectionEntry
    with_token_a: bool


def authenticate(
    request: Request, table: InMemoryRoutingTable, *, allow_token_a: bool = False
) -> Caller:
    """Resolve the calling connection from the token, or raise 401.

    Token A is accepted only where registration needs it (versions, credentials); anywhere
    else it is an unknown token (digest §1.2).
    """
    return authenticate_header(
        request.headers.get("authorization") or "", table, allow_token_a=allow_token_a
    )


def authenticate_header(
    authorization: str, table: InMemoryRoutingTable, *, allow_token_a: bool = False
) -> Caller:
    """`authenticate` from the Authorization header's value (the raw ASGI routing path)."""
    for token in parse_token_header(authorization):
        token_hash = hash_token(token)
        connection = table.connection_by_token_hash(token_hash)
        if connection is not None and not connection.unregistered:
            table.touch(connection.id)
            return Caller(connection, with_token_a=False)
        if allow_token_a:
            connection = table.connection_by_token_a_hash(token_hash)
            if connection is not None and connection.token_a_hash is not None:
                return Caller(connection, with_token_a=True)
    raise Unauthorized()


def check_admin(token: str | None, admin_token_hash: str) -> None:
    """`token` is the credential of an `Authorization: Bearer` header, None without one."""
    if not token or not token.strip():
        raise Unauthorized("admin API needs Authorization: Bearer <admin token>")
    if not hmac.compare_digest(hash_token(token.strip()), admin_token_hash):
        raise Unauthorized("unknown admin token")
