"""Versions module: the version list and the details of 2.1.1, 2.2.1 and 2.3.0 (digest §3;
versions digest §10). Never routed.

2.1.1 endpoints carry no interface role, so a 2.1.1 peer is listed the one interface per module
it calls, chosen by the role its connection states (domain/versions.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import Caller, authenticate
from api.dependencies import node_of
from api.envelope import ocpi_response
from api.node import Node
from application.endpoints import hub_interfaces, platform_interfaces
from application.local_backends import LocalBackends
from application.routing_table import ConnectionEntry
from domain.values import AnyModuleId, InterfaceRole, ModuleId, Role, Way
from domain.versions import (
    PAYMENTS,
    SUPPORTED_VERSIONS,
    V2_1_1,
    V2_3_0,
    hub_interfaces_211,
)

router = APIRouter()


def endpoint_url(
    base: str, module: AnyModuleId | str, interface: InterfaceRole, version: str
) -> str:
    if module in (ModuleId.CREDENTIALS, ModuleId.HUB_CLIENT_INFO):
        return f"{base}/{version}/{module}"
    return f"{base}/{version}/{module}/{interface.lower()}"


@router.get("/ocpi/versions")
def get_versions(request: Request) -> Response:
    node = node_of(request)
    authenticate(request, node.routing_table, allow_token_a=True)
    return ocpi_response(
        [{"version": v, "url": f"{node.ocpi_base}/{v}"} for v in SUPPORTED_VERSIONS]
    )


def role_211(connection: ConnectionEntry) -> Role | None:
    """The role of a 2.1.1 peer: stated by its invitation, else its one registered party."""
    if connection.proposed_role:
        return Role(connection.proposed_role)
    if connection.version == V2_1_1 and len(connection.roles) == 1:
        return connection.roles[0].role
    return None


def served_interfaces(
    node: Node, caller: Caller, version: str
) -> list[tuple[AnyModuleId | str, InterfaceRole]]:
    if version == V2_1_1:
        role = role_211(caller.connection)
        if role is None:
            # Nothing to call but credentials, where the registration is refused with a reason.
            return [(ModuleId.CREDENTIALS, InterfaceRole.SENDER)]
        return list(hub_interfaces_211(role))
    served: list[tuple[AnyModuleId | str, InterfaceRole]]
    if node.settings.is_hub:
        served = list(hub_interfaces())
        if version == V2_3_0:
            # New in 2.3.0, routed between 2.3.0 parties only (versions digest §6).
            served += [(PAYMENTS, InterfaceRole.SENDER), (PAYMENTS, InterfaceRole.RECEIVER)]
        return served
    local_roles = [p.key.role for p in node.routing_table.parties() if Way.LOCAL in p.routes]
    served = list(platform_interfaces(local_roles))
    # The custom modules the hosted backends publish, so peers can discover and use them.
    backends: LocalBackends | None = node.services.backends
    if backends:
        served += backends.custom_interfaces()
    return served


def version_details(request: Request, version: str) -> Response:
    node = node_of(request)
    caller = authenticate(request, node.routing_table, allow_token_a=True)
    endpoints = []
    for module, role in served_interfaces(node, caller, version):
        endpoint = {"identifier": str(module), "role": str(role)}
        endpoint["url"] = endpoint_url(node.ocpi_base, module, role, version)
        if version == V2_1_1:
            del endpoint["role"]  # 2.1.1 Endpoint: identifier and url only
        endpoints.append(endpoint)
    return ocpi_response({"version": version, "endpoints": endpoints})


def _details_route(version: str) -> None:
    @router.get(f"/ocpi/{version}", name=f"version_details_{version}")
    def get_version_details(request: Request) -> Response:
        return version_details(request, version)


for _version in SUPPORTED_VERSIONS:
    _details_route(_version)
