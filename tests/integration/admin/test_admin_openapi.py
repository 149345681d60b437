"""The admin API described by its own OpenAPI document (inputs, bodies, the bearer scheme) and
its docs pages served offline, from assets the node serves itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.admin_router import AdminRoute
from api.app import ROUTERS, create_app
from infrastructure.settings import load_settings

ADMIN = "admin-token-for-openapi-tests"
METHODS = ("get", "post", "put", "delete", "patch")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # Only the description and static pages are read: one SQLite node serves every test here.
    path: Path = tmp_path_factory.mktemp("openapi") / "ledger.db"
    settings = load_settings(
        environ={"OCPI_LEDGER_DATABASE_URL": f"sqlite:///{path}", "OCPI_LEDGER_ADMIN_TOKEN": ADMIN}
    )
    with TestClient(create_app(settings, announce_admin_token=lambda _t: None)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/admin/openapi.json")
    assert response.status_code == 200
    return response.json()


def admin_operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        if path.startswith("/admin/"):
            for method in METHODS:
                if method in item:
                    yield method, path, item[method]


def query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def body_schema(openapi: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    reference = operation["requestBody"]["content"]["application/json"]["schema"]
    if "anyOf" in reference:  # an optional body: the model or null
        reference = next(s for s in reference["anyOf"] if "$ref" in s)
    name = reference["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = openapi["components"]["schemas"][name]
    return schema


def test_the_description_has_a_bearer_security_scheme(openapi: dict[str, Any]) -> None:
    assert openapi["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": openapi["components"]["securitySchemes"]["adminToken"]["description"],
    }


def admin_routes() -> list[APIRoute]:
    return [
        route
        for router in ROUTERS  # what the node serves (api/app.py)
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/admin/")
    ]


def test_every_admin_endpoint_is_declared_through_the_admin_router(
    openapi: dict[str, Any],
) -> None:
    served = {(method.lower(), route.path) for route in admin_routes() for method in route.methods}
    described = {(method, path) for method, path, _ in admin_operations(openapi)}
    assert served == described and len(described) >= 23
    assert [r.path for r in admin_routes() if not isinstance(r, AdminRoute)] == []


def test_no_admin_endpoint_reads_the_raw_request() -> None:
    """Parsing by hand needs the Request; a declared endpoint gets models and the node."""
    raw = [
        route.path for route in admin_routes() if Request in get_type_hints(route.endpoint).values()
    ]
    assert raw == []


def test_every_admin_operation_needs_the_token_and_documents_its_errors(
    openapi: dict[str, Any],
) -> None:
    for method, path, operation in admin_operations(openapi):
        assert operation["security"] == [{"adminToken": []}], (method, path)
        for status in ("400", "401", "404"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/OcpiErrorBody"}, (method, path, status)
        templated = set(re.findall(r"{(\w+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == templated, (method, path)


def test_every_admin_body_is_declared_and_refuses_unknown_fields(openapi: dict[str, Any]) -> None:
    bodies = {
        (method, path): body_schema(openapi, operation)
        for method, path, operation in admin_operations(openapi)
        if "requestBody" in operation
    }
    assert len(bodies) >= 5
    assert all(schema["additionalProperties"] is False for schema in bodies.values())
    assert {key: set(schema["properties"]) for key, schema in bodies.items()}.items() >= {
        ("post", "/admin/invitations"): {"label", "leniency", "ocpi_version", "role"},
        ("post", "/admin/connections"): {
            "versions_url",
            "token_a",
            "label",
            "ocpi_version",
            "role",
        },
        ("post", "/admin/connections/{connection_id}/suspend"): {"reason"},
        ("post", "/admin/connections/{connection_id}/reactivate"): {"reason"},
        ("put", "/admin/connections/{connection_id}/leniency"): {"leniency", "reason"},
        ("put", "/admin/connections/{connection_id}/translation-policy"): {
            "refuse_losing",
            "reason",
        },
    }.items()
    invite = openapi["paths"]["/admin/invitations"]["post"]
    assert invite["requestBody"]["required"] is True
    assert set(body_schema(openapi, invite)["required"]) == {"label"}
    suspend = openapi["paths"]["/admin/connections/{connection_id}/suspend"]["post"]
    assert not suspend["requestBody"].get("required", False)  # a reason is optional


def test_every_admin_query_parameter_is_declared(openapi: dict[str, Any]) -> None:
    filters = {"party", "counterpart", "direction", "connection", "module", "object_id",
               "correlation_id", "since", "until", "status", "outcome", "limit"}  # fmt: skip
    declared = {
        (method, path): names
        for method, path, operation in admin_operations(openapi)
        if (names := query_names(operation))
    }
    expected = {
        ("get", "/admin/messages"): filters | {"request_id", "offset"},
        ("post", "/admin/messages/redrive"): filters | {"dry_run"},
        ("get", "/admin/evidence"): {"correlation_id", "object_id"},
        ("get", "/admin/traffic"): {"party", "bucket", "since", "until"},
        ("get", "/admin/routing-table"): {"as_of"},
        ("get", "/admin/routing-table/explain"): {"to", "from", "module", "interface"},
    }
    assert declared.items() >= expected.items()
    messages = openapi["paths"]["/admin/messages"]["get"]["parameters"]
    limit = next(p for p in messages if p["name"] == "limit")["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 1000)
    since = next(p for p in messages if p["name"] == "since")["schema"]
    assert {"type": "string", "format": "date-time"} in since["anyOf"]
    redrive = openapi["paths"]["/admin/messages/redrive"]["post"]["parameters"]
    assert next(p for p in redrive if p["name"] == "dry_run")["schema"]["type"] == "boolean"


def test_an_unknown_query_parameter_is_refused_by_name(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    for path in ("/admin/traffic", "/admin/routing-table", "/admin/evidence"):
        response = client.get(path, params={"colour": "red"}, headers=auth)
        assert response.status_code == 400, path
        assert "unknown query parameter(s): colour" in response.json()["status_message"]


@pytest.mark.parametrize("page", ["/admin/docs", "/admin/redoc"])
def test_the_docs_pages_load_only_assets_the_node_serves(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    referenced = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
    referenced += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html.text)
    assert any(ref.endswith(".js") for ref in referenced), referenced
    assert "/admin/openapi.json" in referenced
    for reference in referenced:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = client.get(reference)
        assert asset.status_code == 200 and len(asset.content) > 100, reference
    assert not re.search(r"https?://", html.text)  # no CDN, no web fonts
