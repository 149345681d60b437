"""Credentials module as server (digest §4.2): GET, POST (register), PUT (update), DELETE,
at `/ocpi/{version}/credentials` for each version the node speaks; the path's version is the one
the peer registers in, and the bodies are in that version's shape (versions digest §10)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import Caller, authenticate
from api.dependencies import node_of
from api.envelope import ocpi_response
from api.errors import OcpiError
from application.credentials import BASE64, RAW, HandshakeError, Handshakes
from application.tokens import hash_token
from domain.headers import parse_token_header
from domain.status_codes import ClientError
from domain.versions import SUPPORTED_VERSIONS

router = APIRouter()


def handshakes_of(request: Request) -> Handshakes:
    handshakes: Handshakes = node_of(request).services.handshakes
    return handshakes


def presented_token(request: Request, caller: Caller) -> tuple[str, str]:
    """The token that authenticated the caller, and whether it came Base64-encoded or raw."""
    header = request.headers.get("authorization") or ""
    credential = header.partition(" ")[2]
    entry = caller.connection
    known = {entry.inbound_token_hash, entry.pending_inbound_token_hash, entry.token_a_hash}
    for token in parse_token_header(header):
        if hash_token(token) in known:
            return token, RAW if token == credential else BASE64
    return "", BASE64  # unreachable after authenticate(); keeps the type simple


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS,
            "request body is not valid JSON",
            http_status=400,
        ) from None


async def run(function: Any, *args: Any) -> Any:
    """Handshakes block on peers and the store: run them off the event loop, map failures."""
    try:
        return await to_thread.run_sync(partial(function, *args))
    except HandshakeError as error:
        raise OcpiError(error.status_code, error.message, http_status=error.http_status) from None


def get_credentials(request: Request, version: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table, allow_token_a=True)
    token, _encoding = presented_token(request, caller)
    connection_id = UUID(caller.connection.id)
    return ocpi_response(handshakes_of(request).own_credentials(token, version, connection_id))


async def register(request: Request, version: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table, allow_token_a=True)
    if not caller.with_token_a:
        raise OcpiError(
            ClientError.GENERIC, "already registered; use PUT to update credentials", 405
        )
    _token, encoding = presented_token(request, caller)
    body = await json_body(request)
    accepted = await run(
        handshakes_of(request).accept_registration,
        UUID(caller.connection.id),
        body,
        encoding,
        version,
    )
    return ocpi_response(accepted.credentials, status_message=accepted.status_message)


async def update(request: Request, version: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table, allow_token_a=True)
    if caller.with_token_a or not caller.connection.is_registered:
        raise OcpiError(ClientError.GENERIC, "not registered; use POST to register", 405)
    body = await json_body(request)
    accepted = await run(
        handshakes_of(request).accept_update, UUID(caller.connection.id), body, version
    )
    return ocpi_response(accepted.credentials, status_message=accepted.status_message)


async def unregister(request: Request, version: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table, allow_token_a=True)
    if caller.with_token_a or not caller.connection.is_registered:
        raise OcpiError(ClientError.GENERIC, "not registered", 405)
    await run(handshakes_of(request).accept_unregistration, UUID(caller.connection.id))
    return ocpi_response()


def _credentials_routes(version: str) -> None:
    path = f"/ocpi/{version}/credentials"

    @router.get(path, name=f"get_credentials_{version}")
    def get_in_version(request: Request) -> Response:
        return get_credentials(request, version)

    @router.post(path, name=f"register_{version}")
    async def post_in_version(request: Request) -> Response:
        return await register(request, version)

    @router.put(path, name=f"update_{version}")
    async def put_in_version(request: Request) -> Response:
        return await update(request, version)

    @router.delete(path, name=f"unregister_{version}")
    async def delete_in_version(request: Request) -> Response:
        return await unregister(request, version)


for _version in SUPPORTED_VERSIONS:
    _credentials_routes(_version)
