"""Who is calling: OCPI `Authorization: Token ...` to a connection, `Bearer` to the admin API."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from fastapi import Request

from api.errors import Unauthorized
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from application.tokens import hash_token


def token_candidates(header: str | None) -> list[str]:
    """Tokens an Authorization header may carry: base64 (2.2.1) first, then raw (older peers).

    A trailing newline inside the base64 value is kept: the spec's own examples encode one, and
    a token is compared exactly as its owner issued it.
    """
    if not header:
        return []
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return []
    value = value.strip()
    candidates = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded and all(0x21 <= ord(ch) <= 0x7E or ch == "\n" for ch in decoded):
        candidates.append(decoded)
    candidates.append(value)
    return candidates


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
    for token in token_candidates(request.headers.get("authorization")):
        token_hash = hash_token(token)
        connection = table.connection_by_token_hash(token_hash)
        if connection is not None and not connection.unregistered:
            return Caller(connection, with_token_a=False)
        if allow_token_a:
            connection = table.connection_by_token_a_hash(token_hash)
            if connection is not None and connection.token_a_hash is not None:
                return Caller(connection, with_token_a=True)
    raise Unauthorized()


def check_admin(request: Request, admin_token_hash: str) -> None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("admin API needs Authorization: Bearer <admin token>")
    if not hmac.compare_digest(hash_token(token.strip()), admin_token_hash):
        raise Unauthorized("unknown admin token")
