"""Platform mode: host the configured parties, and let their backends send through the node.

A backend calls `{node}/egress/{module}/{sender|receiver}{/path}` with its backend token; it is
handled by the same routing service as traffic from connections (same ledger events, callback
store and route choice), with the backend's parties as the ones it may speak for. The answer
says which way the message went and why (`X-Ledger-Route`, `X-Ledger-Route-Reason`).

A custom module (an id outside OCPI, e.g. `x-evroaming-reservations`) goes the same way: it
needs OCPI-to, and leaves only over a CONNECTED direct connection whose peer publishes it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dependencies import node_of
from api.errors import OcpiError, Unauthorized
from api.hosted_backends import backend_caller
from api.node import Node
from api.routers.routing import serve_routed
from application.local_backends import LocalBackend, LocalBackends
from domain.errors import InvalidOperationError
from domain.status_codes import ClientError
from domain.values import InterfaceRole, parse_module_id
from infrastructure.backend_discovery import BackendDiscovery
from infrastructure.background_loop import BackgroundLoop
from infrastructure.node_config import NodeConfig, load_node_config

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def start_platform(node: Node) -> None:
    """STARTUP_HOOK (before routing): host the configured parties, read their backends."""
    if node.settings.is_hub:
        return
    # Without a config file a platform hosts no parties yet: it can still connect to peers.
    config = (
        load_node_config(node.settings.config_file) if node.settings.config_file else NodeConfig()
    )
    for party in config.parties:
        node.registry.register_local_party(party.key, party.business_details, party.backend_url)
    # Hooks run before the runners start: bring the hot-path table up to date before serving.
    node.projection_runner("routing_table_memory").run_until_caught_up()
    discovery = BackendDiscovery(timeout=min(node.settings.forward_timeout, 5.0))
    backends = LocalBackends(
        (LocalBackend(b.versions_url, b.token, b.parties) for b in config.backends()),
        rediscover=discovery.read_later,
    )
    discovery.attach(backends)
    discovery.read_all()
    node.services.backends = backends
    # Backends may publish new (custom) modules while the node runs: read them again as often
    # as peers are health-checked.
    node.runners["backend_discovery"] = BackgroundLoop(
        "backend_discovery",
        discovery.read_all,
        idle=node.settings.health_check_interval,
        idle_first=True,
    )
    node.services.route_policy = config.routes


async def egress(request: Request, module: str, interface: str, rest: str = "") -> Response:
    node = node_of(request)
    if node.settings.is_hub:
        raise OcpiError(
            ClientError.GENERIC, "this node is a hub: it has no egress", http_status=404
        )
    caller = backend_caller(node, request)
    if caller is None:
        raise Unauthorized("egress needs the backend token of a configured backend")
    try:
        module_id = parse_module_id(module.lower())
        role = InterfaceRole(interface.upper())
    except (InvalidOperationError, ValueError) as error:
        why = f": {error}" if isinstance(error, InvalidOperationError) else ""
        raise OcpiError(
            ClientError.INVALID_OR_MISSING_PARAMETERS,
            f"no egress for module {module!r} interface {interface!r}{why}",
            http_status=404,
        ) from None
    connection, backend = caller
    answer = await serve_routed(
        request, node, connection, backend.parties, module_id, role, f"/{rest}" if rest else ""
    )
    headers = dict(answer.headers)
    if answer.via is not None:
        headers["x-ledger-route"] = answer.via
        headers["x-ledger-route-reason"] = answer.reason.encode("ascii", "replace").decode()
    return Response(answer.body, status_code=answer.http_status, headers=headers)


# One route per method and path: FastAPI gives a multi-method route a single operation id,
# which makes the OpenAPI description ambiguous for clients and fuzzers.
for _method in METHODS:
    for _path in ("/egress/{module}/{interface}", "/egress/{module}/{interface}/{rest:path}"):
        router.add_api_route(
            _path,
            egress,
            methods=[_method],
            name=f"egress_{_method.lower()}{'_path' if 'rest' in _path else ''}",
        )
