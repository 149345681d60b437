"""An ocpi-ledger node served in-process over real HTTP, with its internals at hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from api.app import create_app
from api.node import Node
from infrastructure.database_url import DatabaseUrl
from infrastructure.settings import load_settings
from tests.e2e.nodes import ADMIN_TOKEN, database_url_text, free_port
from tests.support.servers import serving

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class RunningNode:
    url: str
    node: Node

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}/admin{path}", headers=ADMIN, timeout=30, **kwargs)

    def events(self, connection_id: str) -> list[str]:
        from uuid import UUID

        stored = self.node.registry.repository.event_store.get(UUID(connection_id))
        return [type(e).__name__ for e in stored]


@contextmanager
def running_node(
    database_url: DatabaseUrl, mode: str = "hub", party: str = "NL*HUB", **settings: str
) -> Iterator[RunningNode]:
    port = free_port()
    environ = {
        "OCPI_LEDGER_DATABASE_URL": database_url_text(database_url),
        "OCPI_LEDGER_BASE_URL": f"http://127.0.0.1:{port}",
        "OCPI_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "OCPI_LEDGER_MODE": mode,
        "OCPI_LEDGER_PARTY": party,
        "OCPI_LEDGER_FORWARD_TIMEOUT": settings.pop("forward_timeout", "3"),
        **{f"OCPI_LEDGER_{k.upper()}": v for k, v in settings.items()},
    }
    app = create_app(load_settings(environ), announce_admin_token=lambda _token: None)
    with serving(app, port) as url:
        yield RunningNode(url, app.state.node)
