"""The composition root: builds a node's stores, applications, projections and runners."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.checkpoints import Checkpoints
from application.credentials import Handshakes
from application.health import HealthChecker
from application.hub_client_info import HubClientInfoNotifier
from application.hub_objects import CaughtUpObjects
from application.local_backends import LocalBackends
from application.routing import RoutingService
from application.routing_table import InMemoryRoutingTable, RoutingTableProjection
from domain.route_choice import PolicyRule
from domain.values import OCPI_VERSION
from infrastructure.audit_view import SqlAuditView
from infrastructure.detached_runner import DetachedRunner
from infrastructure.group_commit import GroupCommitter
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.ocpi_client import HttpPeerClient
from infrastructure.projection_runner import PostgresChangeListener, ProjectionRunner
from infrastructure.retention import RetentionSweeper
from infrastructure.routing_table_view import SqlRoutingTableView
from infrastructure.settings import Settings
from infrastructure.store import Store, open_store
from infrastructure.traffic_view import SqlTrafficView

log = logging.getLogger(__name__)


@dataclass
class HealthState:
    """What /health keeps between calls: a thread of its own for store checks (a hung check
    never takes a thread routed requests need) and the projection positions last read."""

    checks: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="health")
    )
    projections: dict[str, Any] = field(default_factory=dict)


class Runner(Protocol):
    """A background worker of the node: a projection runner, a detached view's follower or a
    paced loop (health checks, link expiry, checkpoints, backend discovery)."""

    @property
    def last_error(self) -> str | None: ...

    @property
    def position(self) -> int: ...

    def start(self) -> object: ...

    def stop(self, timeout: float = 5.0) -> None: ...


class NodeServices:
    """What the node's start-up hooks install, by name and type: each hook sets its own once
    (api/*_setup.py, api/routers/routing.py, api/platform.py, api/app.py). Reading one that was
    never installed is an AttributeError naming it; the optional ones default to None."""

    admin_token_hash: str
    # ledger views and evidence (api/audit_setup.py, api/checkpoints_setup.py)
    audit_view: SqlAuditView
    traffic_view: SqlTrafficView
    ledger_archive: LedgerArchive
    registry_archive: LedgerArchive
    checkpoints: Checkpoints
    body_retention: RetentionSweeper | None = None
    # connections (api/connections_setup.py)
    peer_client: HttpPeerClient
    handshakes: Handshakes
    health_checker: HealthChecker
    hubclientinfo_notifier: HubClientInfoNotifier | None = None
    # routing (api/hub_objects_setup.py, api/platform.py, api/routers/routing.py)
    hub_objects: CaughtUpObjects
    backends: LocalBackends | None = None
    """Hosted parties' backends: platform mode only."""
    route_policy: tuple[PolicyRule, ...] = ()
    routing: RoutingService
    # operator console (api/console/)
    console_session_key: bytes | None = None
    console_last_verify: Any = None
    """The last ledger verification the console ran (per worker process)."""

    def installed(self) -> list[Any]:
        """Every service installed so far, in the order they were."""
        return list(vars(self).values())


@dataclass
class Node:
    settings: Settings
    store: Store
    routing_table: InMemoryRoutingTable
    routing_table_view: SqlRoutingTableView
    committer: GroupCommitter
    runners: dict[str, Runner] = field(default_factory=dict)
    listener: PostgresChangeListener | None = None
    health: HealthState = field(default_factory=HealthState)
    services: NodeServices = field(default_factory=NodeServices)
    _runners_by_channel: dict[str, list[ProjectionRunner]] = field(default_factory=dict)

    @property
    def registry(self) -> Any:
        return self.store.registry

    @property
    def ledger(self) -> Any:
        return self.store.ledger

    @property
    def ocpi_base(self) -> str:
        return f"{self.settings.base_url}/ocpi"

    @property
    def versions_url(self) -> str:
        return f"{self.ocpi_base}/versions"

    @property
    def version_details_url(self) -> str:
        return f"{self.ocpi_base}/{OCPI_VERSION}"

    def add_runner(self, runner: ProjectionRunner, source: Any) -> ProjectionRunner:
        """Register a projection runner that follows `source` (an Application of this node)."""
        self.runners[runner.name] = runner
        source.add_save_listener(runner.wake)
        self._runners_by_channel.setdefault(f"{source.name}_events", []).append(runner)
        return runner

    def projection_runner(self, name: str) -> ProjectionRunner:
        """A runner known to be a projection runner of this node (the routing tables)."""
        runner = self.runners[name]
        if not isinstance(runner, ProjectionRunner):
            raise TypeError(f"runner {name} is a {type(runner).__name__}, not a projection runner")
        return runner

    def view_runner(self, name: str) -> ProjectionRunner | DetachedRunner | None:
        """The runner of the read model `name` (what rebuild and progress act on); None for
        background loops and unknown names."""
        runner = self.runners.get(name)
        return runner if isinstance(runner, (ProjectionRunner, DetachedRunner)) else None

    def wait_for_registry(self, position: int, timeout: float = 5.0) -> None:
        """Read-your-writes: return once the routing table (memory and SQL) includes `position`."""
        if position <= 0:
            return
        self.projection_runner("routing_table_memory").wait(position, timeout)
        self.projection_runner("routing_table").wait(position, timeout)

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()
        if self.store.url.is_postgres:
            self.listener = PostgresChangeListener(
                self.store.url.conninfo(), self.store.channels, self._on_remote_change
            ).start()

    def _on_remote_change(self, channel: str) -> None:
        # Only the followers of the application that saved: a routed message must not make
        # the registry's followers query the registry.
        for runner in self._runners_by_channel.get(channel, ()):
            runner.wake()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        for service in self.services.installed():
            close = getattr(service, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # shutting down: report and keep closing the rest
                    log.exception("closing %r failed", service)
        for runner in self.runners.values():
            runner.stop()
        self.committer.close()
        self.health.checks.shutdown(wait=False)
        self.store.close()


class _MemoryRoutingProjection(RoutingTableProjection):
    name = "routing_table_memory"


def build_node(settings: Settings) -> Node:
    store = open_store(settings.database)
    routing_table = InMemoryRoutingTable()
    routing_table_view = SqlRoutingTableView(store.registry_db)
    node = Node(
        settings=settings,
        store=store,
        routing_table=routing_table,
        routing_table_view=routing_table_view,
        committer=GroupCommitter(store.ledger),
    )
    memory = ProjectionRunner(store.registry, _MemoryRoutingProjection(), routing_table)
    # Load the in-memory table before serving: the hot path must never see a half-built table.
    memory.run_until_caught_up()
    node.add_runner(memory, store.registry)
    node.add_runner(
        ProjectionRunner(store.registry, RoutingTableProjection(), routing_table_view),
        store.registry,
    )
    return node
