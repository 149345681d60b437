"""The FastAPI application: lifespan owns the node; routers stay thin."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from api import platform
from api.audit_setup import install_audit
from api.checkpoints_setup import install_checkpoints
from api.connections_setup import install_connections
from api.console.routes import install_console
from api.errors import install_error_handlers
from api.hub_objects_setup import install_hub_objects
from api.node import Node, build_node
from api.request_ids import RequestIdMiddleware
from api.routed_front import RoutedFront
from api.routers import (
    admin_audit,
    admin_connections,
    admin_ledger,
    credentials,
    health,
    hubclientinfo,
    receipts,
    routing,
    versions,
)
from application.tokens import hash_token, new_token
from infrastructure.secrets import SecretStore
from infrastructure.settings import Settings
from infrastructure.sql import startup_lock

log = logging.getLogger(__name__)

ADMIN_TOKEN = "admin_token"

NodeHook = Callable[[Node], None]
AsyncNodeHook = Callable[[Node], Awaitable[None]]

# Other parts of the node (credentials, routing, audit, ...) add their routers and start-up
# hooks here, so this module stays the one place that lists what a node serves.
ROUTERS = [versions.router, health.router, credentials.router, hubclientinfo.router]
ROUTERS += [admin_connections.router, admin_audit.router, platform.router, routing.router]
ROUTERS += [admin_ledger.router, receipts.router, receipts.admin]
STARTUP_HOOKS: list[NodeHook] = [
    install_connections,
    install_audit,
    install_checkpoints,  # after audit: it reads the ledger archive
    install_hub_objects,  # before routing: GET All reads its view
    platform.start_platform,  # before routing: it reads the hosted backends and route policy
    routing.install_routing,
]
# Called on the event loop before the node closes (e.g. to finish in-flight forwards).
SHUTDOWN_HOOKS: list[AsyncNodeHook] = [routing.close_routing]


def setup_admin_token(node: Node, announce: Callable[[str], None]) -> None:
    """Use the configured admin token, or the stored one, or make one and show it once."""
    secrets = SecretStore(node.store.registry_db)
    configured = node.settings.admin_token
    if configured is not None:
        node.services.admin_token_hash = hash_token(configured)
        return
    stored = secrets.get_hash(ADMIN_TOKEN)
    if stored is not None:
        node.services.admin_token_hash = stored
        return
    token = new_token()
    in_force = secrets.put_hash_if_absent(ADMIN_TOKEN, hash_token(token))
    node.services.admin_token_hash = in_force
    if in_force == hash_token(token):
        announce(token)


def _announce_admin_token(token: str) -> None:
    print(
        "ocpi-ledger: generated admin token (shown once; set OCPI_LEDGER_ADMIN_TOKEN to choose "
        f"your own):\n  {token}",
        flush=True,
    )


def create_app(
    settings: Settings,
    announce_admin_token: Callable[[str], None] = _announce_admin_token,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with startup_lock(settings.database):
            node = build_node(settings)
            try:
                setup_admin_token(node, announce_admin_token)
                for hook in STARTUP_HOOKS:
                    hook(node)
            except BaseException:
                node.close()
                raise
        try:
            node.start()
            app.state.node = node
            yield
            for shutdown in SHUTDOWN_HOOKS:
                await shutdown(node)
        finally:
            node.close()

    # Swagger UI and ReDoc from assets in the fastapi-offline wheel, served by the node itself.
    app = FastAPIOffline(
        title="ocpi-ledger",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/admin/docs",
        redoc_url="/admin/redoc",
        openapi_url="/admin/openapi.json",
        static_url="/admin/docs-assets",
        swagger_ui_oauth2_redirect_url="/admin/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's native OpenTelemetry (0.16x) asks the global providers, reading os.environ,
        # on every request: 3-4 % of the event loop at saturation (py-spy, bench/README.md).
        # The node exports no telemetry; older FastAPI keeps the setting in `extra`.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    install_console(app)

    def openapi_with_routed_endpoints() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema["paths"].update(routing.openapi_paths())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi_with_routed_endpoints  # type: ignore[method-assign]
    app.add_middleware(RequestIdMiddleware)
    # Added last, so outermost: routed requests are answered before any other middleware.
    app.add_middleware(RoutedFront)
    return app
