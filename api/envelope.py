"""The OCPI response envelope and the JSON responses the node itself generates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response

from domain.status_codes import Success


def ocpi_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with a Z, the only form every 2.2.1 implementation accepts."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def envelope(
    data: Any = None, status_code: int = Success.GENERIC, status_message: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if status_message:
        body["status_message"] = status_message
    body["timestamp"] = ocpi_timestamp()
    return body


def ocpi_response(
    data: Any = None,
    status_code: int = Success.GENERIC,
    status_message: str | None = None,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    content = json.dumps(envelope(data, status_code, status_message), separators=(",", ":"))
    return Response(
        content=content, status_code=http_status, media_type="application/json", headers=headers
    )
