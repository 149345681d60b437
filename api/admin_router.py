"""How every admin router is declared: one bearer security scheme, errors as OCPI envelopes,
validation problems answered with the codes the admin API has always used.

The codes (clients and the CLI rely on them):
- 401 before anything else when the admin token is missing or wrong;
- 400 when the body is not JSON (or missing), or a query or path parameter is unusable; the
  message names the parameter ("limit must be an integer, got 'lots'");
- 422 when a JSON body does not fit its model ("label: Field required").
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

from api.dependencies import admin_bearer, require_admin
from api.errors import OcpiError
from domain.status_codes import ClientError


class OcpiErrorBody(BaseModel):
    """The envelope of every admin error."""

    status_code: int
    status_message: str
    timestamp: str


class OcpiAnswer(BaseModel):
    """The envelope of an audit answer: `data` holds the result."""

    data: Any = None
    status_code: int
    status_message: str | None = None
    timestamp: str


def _error(description: str) -> dict[str, Any]:
    return {"model": OcpiErrorBody, "description": description}


ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Body not JSON, or a query or path parameter unusable (OCPI 2001)"),
    401: _error("Admin token missing or unknown (OCPI 2000)"),
    404: _error("No such connection, message or projection"),
    409: _error("Refused in the object's current state"),
    422: _error("JSON body that does not fit its model (OCPI 2001)"),
    502: _error("The peer could not be used (OCPI 3001)"),
    503: _error("The ledger is unavailable for now; retry (OCPI 4000)"),
}


def problems_of(errors: Sequence[Any], query_names: Sequence[str] = ()) -> tuple[int, str]:
    """HTTP status and message for pydantic errors of an admin request (see the module doc)."""
    if any(e["type"] == "json_invalid" for e in errors):
        return 400, "request body is not valid JSON"
    if any(e["type"] == "missing" and tuple(e["loc"]) == ("body",) for e in errors):
        return 400, "request body is missing: send a JSON object"
    body = [e for e in errors if e["loc"][:1] == ("body",)]
    if body:
        return 422, "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in body[:5]
        )
    unknown = sorted(str(e["loc"][-1]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        use = f"; use {', '.join(sorted(query_names))}" if query_names else ""
        return 400, f"unknown query parameter(s): {', '.join(unknown)}{use}"
    return 400, "; ".join(_parameter_problem(e) for e in errors[:5]) or "invalid request"


def _parameter_problem(error: Any) -> str:
    name = str(error["loc"][-1]) if error["loc"] else "parameter"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])  # our validators' own sentence, which names the field
    if error["type"] == "int_parsing":
        return f"{name} must be an integer, got {error['input']!r}"
    return f"{name}: {error['msg']}"


def invalid(errors: Sequence[Any], query_names: Sequence[str] = ()) -> OcpiError:
    http_status, message = problems_of(errors, query_names)
    return OcpiError(ClientError.INVALID_OR_MISSING_PARAMETERS, message, http_status=http_status)


class AdminRoute(APIRoute):
    """An admin endpoint: bodies read as JSON whatever their content type (`curl -d` sends a
    form type; the admin API always took it), validation errors in the admin codes, and the
    token checked first so a caller without it learns nothing about the inputs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        query_names = _query_names(self)
        reads_body = self.body_field is not None

        async def admin_handler(request: Request) -> Response:
            if reads_body:
                request = _as_json(request)
            try:
                return await handle(request)
            except RequestValidationError as error:
                credentials = await admin_bearer(request)
                require_admin(request, credentials)
                raise invalid(error.errors(), query_names) from None

        return admin_handler


def _as_json(request: Request) -> Request:
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return request
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    scope = {**request.scope, "headers": [*headers, (b"content-type", b"application/json")]}
    return Request(scope, request.receive)


def _query_names(route: APIRoute) -> list[str]:
    names = []
    for field in route.dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [f.alias or n for n, f in model.model_fields.items()]
        else:
            names.append(field.alias)
    return names


def admin_router(**tags: Any) -> APIRouter:
    """A router under /admin whose every operation needs the admin token (and says so in
    OpenAPI), answers errors as OCPI envelopes and documents them."""
    return APIRouter(
        prefix="/admin",
        route_class=AdminRoute,
        dependencies=[Depends(require_admin)],
        responses=ADMIN_ERRORS,
        **tags,
    )
