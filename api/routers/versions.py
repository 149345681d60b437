"""Versions module: the version list and 2.2.1 details (digest §3). Never routed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import authenticate
from api.dependencies import node_of
from api.envelope import ocpi_response
from application.endpoints import hub_interfaces, platform_interfaces
from application.local_backends import LocalBackends
from domain.values import OCPI_VERSION, AnyModuleId, InterfaceRole, ModuleId, Way

router = APIRouter()


def endpoint_url(base: str, module: AnyModuleId, interface: InterfaceRole) -> str:
    if module is ModuleId.CREDENTIALS:
        return f"{base}/{OCPI_VERSION}/credentials"
    if module is ModuleId.HUB_CLIENT_INFO:
        return f"{base}/{OCPI_VERSION}/hubclientinfo"
    return f"{base}/{OCPI_VERSION}/{module}/{interface.lower()}"


@router.get("/ocpi/versions")
def get_versions(request: Request) -> Response:
    node = node_of(request)
    authenticate(request, node.routing_table, allow_token_a=True)
    return ocpi_response([{"version": OCPI_VERSION, "url": node.version_details_url}])


@router.get(f"/ocpi/{OCPI_VERSION}")
def get_version_details(request: Request) -> Response:
    node = node_of(request)
    authenticate(request, node.routing_table, allow_token_a=True)
    served: list[tuple[AnyModuleId, InterfaceRole]]
    if node.settings.is_hub:
        served = list(hub_interfaces())
    else:
        local_roles = [p.key.role for p in node.routing_table.parties() if Way.LOCAL in p.routes]
        served = list(platform_interfaces(local_roles))
        # The custom modules the hosted backends publish, so peers can discover and use them.
        backends: LocalBackends | None = node.services.backends
        if backends:
            served += backends.custom_interfaces()
    endpoints = [
        {
            "identifier": str(module),
            "role": str(role),
            "url": endpoint_url(node.ocpi_base, module, role),
        }
        for module, role in served
    ]
    return ocpi_response({"version": OCPI_VERSION, "endpoints": endpoints})
