"""Every failure becomes an OCPI envelope with the right HTTP and OCPI status, never a trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.envelope import ocpi_response
from application.errors import ConnectionNotFoundError, LedgerUnavailableError, PartyNotFoundError
from domain.errors import DomainError
from domain.status_codes import ClientError, HubError, ServerError

log = logging.getLogger(__name__)


class OcpiError(Exception):
    """Raised by endpoints to answer with an OCPI error envelope."""

    def __init__(
        self,
        status_code: int,
        message: str,
        http_status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status
        self.headers = headers or {}


class Unauthorized(OcpiError):
    def __init__(self, message: str = "missing or unknown token") -> None:
        super().__init__(ClientError.GENERIC, message, http_status=401)


INTERNAL_ERROR = "internal error; the node logged the details"


def as_ocpi_error(error: Exception) -> OcpiError:
    """How the node answers an exception an endpoint let through (FastAPI's handlers below and
    the raw routing path, api/routed_front.py, answer alike). Unexpected ones are 500s; the
    caller logs them."""
    if isinstance(error, OcpiError):
        return error
    if isinstance(error, ConnectionNotFoundError | PartyNotFoundError):
        return OcpiError(ClientError.GENERIC, str(error), http_status=404)
    if isinstance(error, LedgerUnavailableError):
        return OcpiError(HubError.GENERIC, str(error), 503, {"Retry-After": "1"})
    if isinstance(error, DomainError):
        return OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, str(error))
    return OcpiError(ServerError.GENERIC, INTERNAL_ERROR, http_status=500)


def _describe_validation(error: RequestValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
        problems.append(f"{where or 'body'}: {item.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    def with_request_ids(request: Request, headers: dict[str, str]) -> dict[str, str]:
        for name in ("x-request-id", "x-correlation-id"):
            value = request.headers.get(name)
            if value and name not in {k.lower() for k in headers}:
                headers[name] = value
        return headers

    @app.exception_handler(OcpiError)
    async def ocpi_error(request: Request, error: OcpiError) -> Response:
        return ocpi_response(
            status_code=error.status_code,
            status_message=error.message,
            http_status=error.http_status,
            headers=with_request_ids(request, dict(error.headers)),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        message = _describe_validation(error)
        http_status = 400 if any(e.get("type") == "json_invalid" for e in error.errors()) else 200
        return ocpi_response(
            status_code=ClientError.INVALID_OR_MISSING_PARAMETERS,
            status_message=message,
            http_status=http_status,
            headers=with_request_ids(request, {}),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return ocpi_response(
            status_code=ClientError.GENERIC,
            status_message=str(error.detail),
            http_status=error.status_code,
            headers=with_request_ids(request, dict(error.headers or {})),
        )

    @app.exception_handler(ConnectionNotFoundError)
    @app.exception_handler(PartyNotFoundError)
    @app.exception_handler(LedgerUnavailableError)
    @app.exception_handler(DomainError)
    async def mapped(request: Request, error: Exception) -> Response:
        return await ocpi_error(request, as_ocpi_error(error))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await ocpi_error(request, as_ocpi_error(error))
