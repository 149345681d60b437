"""OCPI response envelope, timestamps and the error type handlers raise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OCPI_VERSION = "2.2.1"
VERSIONS = ("2.1.1", "2.2.1", "2.3.0")
FUNCTIONAL_MODULES = frozenset(
    {"locations", "sessions", "cdrs", "tariffs", "tokens", "commands", "chargingprofiles"}
)
# 2.1.1 has no charging profiles (smart_charging.md: "TO BE DEFINED") and no hubclientinfo.
MODULES_211 = FUNCTIONAL_MODULES - {"chargingprofiles"}


def functional_modules(version: str) -> frozenset[str]:
    return MODULES_211 if version == "2.1.1" else FUNCTIONAL_MODULES


def ocpi_now() -> str:
    """DateTime as OCPI wants it: UTC with `Z`, milliseconds (never `+00:00`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_ocpi_datetime(value: str) -> datetime:
    """Parse an OCPI DateTime; a missing `Z` still means UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def envelope(
    data: Any = None,
    status_code: int = 1000,
    status_message: str | None = None,
    *,
    include_data: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if include_data and data is not None:
        body["data"] = data
    body["status_code"] = status_code
    if status_message:
        body["status_message"] = status_message
    body["timestamp"] = ocpi_now()
    return body


class OcpiError(Exception):
    """Ends a request with an envelope carrying `status_code` and an HTTP status."""

    def __init__(
        self,
        http_status: int,
        status_code: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}
