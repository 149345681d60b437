"""Platform mode: register the hosted parties at start, serve the egress and callback endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dependencies import node_of
from api.errors import OcpiError, Unauthorized
from api.node import Node
from application import platform
from domain.headers import parse_token_header
from domain.values import OCPI_VERSION, InterfaceRole
from infrastructure.node_config import NodeConfig, load_node_config
from infrastructure.platform_transport import HttpTransport

router = APIRouter()

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
SERVICE = "platform"


def start_platform(node: Node) -> None:
    """STARTUP_HOOK: in platform mode, host the configured parties (idempotent per start)."""
    if node.settings.is_hub:
        return
    # Without a config file a platform hosts no parties yet: it can still connect to peers.
    config = (
        load_node_config(node.settings.config_file) if node.settings.config_file else NodeConfig()
    )
    for party in config.parties:
        node.registry.register_local_party(party.key, party.business_details, party.backend_url)
    # Hooks run before the runners start: bring the hot-path table up to date before serving.
    node.runners["routing_table_memory"].run_until_caught_up()
    backends = [platform.Backend(b.versions_url, b.token, b.parties) for b in config.backends()]
    node.services[SERVICE] = platform.PlatformService(
        table=node.routing_table,
        backends=platform.HostedBackends(backends),
        rules=config.routes,
        transport=HttpTransport(node.settings.forward_timeout),
        recorder=node.committer,
        ocpi_base=node.ocpi_base,
    )


def _service(request: Request) -> platform.PlatformService:
    service = node_of(request).services.get(SERVICE)
    if service is None:
        raise OcpiError(2000, "this node is not a platform: it has no egress", http_status=404)
    return service


def _answer(answer: platform.Answer) -> Response:
    headers = dict(answer.headers)
    if answer.route is not None:
        # for the backend (and the demo): which way the message went, and why
        headers["x-ledger-route"] = str(answer.route.kind)
        headers["x-ledger-route-reason"] = answer.route.reason.encode("ascii", "replace").decode()
    return Response(answer.body, status_code=answer.http_status, headers=headers)


async def _request(request: Request, module: str, interface: str, rest: str) -> platform.Request:
    return platform.Request(
        method=request.method,
        module=module.lower(),
        interface=interface,
        path=f"/{rest}" if rest else "",
        query=request.url.query,
        headers=dict(request.headers),
        body=await request.body(),
    )


def _interface(text: str) -> str:
    try:
        return str(InterfaceRole(text.upper()))
    except ValueError:
        raise OcpiError(2001, f"interface must be sender or receiver, got {text!r}", 404) from None


@router.api_route("/egress/{module}/{interface}", methods=METHODS)
@router.api_route("/egress/{module}/{interface}/{rest:path}", methods=METHODS)
async def egress(request: Request, module: str, interface: str, rest: str = "") -> Response:
    service = _service(request)
    backend = service.backends.by_token(
        parse_token_header(request.headers.get("authorization", ""))
    )
    if backend is None:
        raise Unauthorized("egress needs the backend token of a configured backend")
    outbound = await _request(request, module, _interface(interface), rest)
    return _answer(await service.send(backend, outbound))


@router.post(f"/ocpi/{OCPI_VERSION}/callbacks/{{callback_id}}")
async def callback(request: Request, callback_id: str) -> Response:
    service = _service(request)
    tokens = parse_token_header(request.headers.get("authorization", ""))
    caller = service.authenticate_callback_caller(tokens)
    if caller is None:
        raise Unauthorized()
    relayed = await _request(request, "", str(InterfaceRole.SENDER), "")
    return _answer(await service.relay_result(caller, callback_id, relayed))
