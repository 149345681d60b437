"""Hub client info (digest §5): the Sender list in hub mode, the Receiver in platform mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import Caller, authenticate
from api.dependencies import node_of
from api.envelope import ocpi_response
from api.errors import OcpiError
from api.node import Node
from application.hub_client_info import client_info, client_infos_for
from domain.errors import InvalidPartyError
from domain.status_codes import ClientError
from domain.values import OCPI_VERSION, ConnectionStatus, PartyKey, PartyRef, Role, Way

router = APIRouter()

PATH = f"/ocpi/{OCPI_VERSION}/hubclientinfo"
# 2.3.0's HubClientInfo is 2.2.1's (versions digest §0); 2.1.1 has no such module.
PATH_230 = "/ocpi/2.3.0/hubclientinfo"
MAX_LIMIT = 100


def _caller(request: Request) -> tuple[Node, Caller]:
    node = node_of(request)
    return node, authenticate(request, node.routing_table)


def _parse_datetime(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, f"{name}: not an RFC 3339 DateTime"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, f"{name}: must be a non-negative integer"
        )
    return int(value)


@router.get(PATH_230)
@router.get(PATH)
def list_client_info(request: Request) -> Response:
    node, caller = _caller(request)
    if not node.settings.is_hub:
        raise OcpiError(
            ClientError.GENERIC, "this node is a platform; it serves no client info list", 404
        )
    query = request.query_params
    offset = _parse_int("offset", query.get("offset"), 0)
    limit = min(_parse_int("limit", query.get("limit"), MAX_LIMIT), MAX_LIMIT)
    date_from = _parse_datetime("date_from", query.get("date_from"))
    date_to = _parse_datetime("date_to", query.get("date_to"))
    infos = [
        info
        for info in client_infos_for(
            node.routing_table, caller.connection.id, caller.connection.version
        )
        if _in_window(info["last_updated"], date_from, date_to)
    ]
    page = infos[offset : offset + limit]
    headers = {"X-Total-Count": str(len(infos)), "X-Limit": str(MAX_LIMIT)}
    if offset + len(page) < len(infos):
        params = {k: v for k, v in query.items() if k not in ("offset", "limit")}
        params.update(offset=str(offset + len(page)), limit=str(limit))
        headers["Link"] = (
            f'<{node.ocpi_base}/{OCPI_VERSION}/hubclientinfo?{urlencode(params)}>; rel="next"'
        )
    return ocpi_response(page, headers=headers)


def _in_window(stamp: str, date_from: datetime | None, date_to: datetime | None) -> bool:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (date_from is None or moment >= date_from) and (date_to is None or moment < date_to)


def _platform_only(node: Node) -> None:
    if node.settings.is_hub:
        raise OcpiError(
            ClientError.GENERIC,
            "this node is a hub; it serves the hubclientinfo Sender interface",
            404,
        )


def _ref(country_code: str, party_id: str) -> PartyRef:
    try:
        return PartyRef(country_code, party_id)
    except InvalidPartyError as error:
        raise OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, str(error)) from None


@router.get(PATH_230 + "/{country_code}/{party_id}")
@router.get(PATH + "/{country_code}/{party_id}")
def get_client_info(request: Request, country_code: str, party_id: str) -> Response:
    node, caller = _caller(request)
    _platform_only(node)
    ref = _ref(country_code, party_id)
    learned = [p for p in node.routing_table.parties(ref) if caller.connection.id in p.routes]
    if not learned:
        raise OcpiError(ClientError.GENERIC, f"no client info stored for {ref}", 404)
    info = max((client_info(p) for p in learned), key=lambda i: i["last_updated"])
    return ocpi_response(info)


def _parse_client_info(raw: bytes, ref: PartyRef) -> tuple[PartyKey, ConnectionStatus]:
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, "request body is not valid JSON", 400
        ) from None
    if not isinstance(body, dict):
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, "body must be a ClientInfo object", 400
        )
    for field in ("party_id", "country_code", "role", "status", "last_updated"):
        if not isinstance(body.get(field), str):
            raise OcpiError(
                ClientError.INVALID_OR_MISSING_PARAMETERS, f"{field}: required string", 400
            )
    if body["role"] not in Role.__members__.values():
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS, f"role: unknown role {body['role']!r}", 400
        )
    if body["status"] not in ConnectionStatus.__members__.values():
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS,
            f"status: unknown status {body['status']!r}",
            400,
        )
    about = _ref(body["country_code"], body["party_id"])
    key = PartyKey(about.country_code, about.party_id, Role(body["role"]))
    if key.ref != ref:
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS,
            f"body is about {key.ref}, the URL about {ref}",
        )
    return key, ConnectionStatus(body["status"])


@router.put(PATH_230 + "/{country_code}/{party_id}")
@router.put(PATH + "/{country_code}/{party_id}")
async def put_client_info(request: Request, country_code: str, party_id: str) -> Response:
    node, caller = _caller(request)
    _platform_only(node)
    connection = caller.connection
    if connection.roles and Role.HUB not in {k.role for k in connection.roles}:
        raise OcpiError(ClientError.GENERIC, "only a hub connection may push client info")
    ref = _ref(country_code, party_id)
    key, status = _parse_client_info(await request.body(), ref)
    owned_here = any(Way.LOCAL in p.routes for p in node.routing_table.parties(ref))
    if not owned_here:
        position = await to_thread.run_sync(
            lambda: node.registry.learn_party_via_hub(UUID(connection.id), key, status)
        )
        await to_thread.run_sync(node.wait_for_registry, position)
    return ocpi_response()
