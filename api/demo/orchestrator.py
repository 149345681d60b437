"""Run a topology as real processes: a node per platform (and the hub), the party backends, the
connections through the real handshake, and sample traffic between every trading pair.

Every child is started in a session of its own and stopped by its process id (SIGTERM, then
SIGKILL after a grace period), from `close()`, which the CLI calls on exit and on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.demo.topologies import HUB_PARTY, PartySpec, PlatformSpec, Topology
from infrastructure.database_url import DatabaseUrl, parse_database_url
from infrastructure.schemas import drop_schema

REPO = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "demo-admin-token-" + "0" * 8
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
HUB_NAME = "hub"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NodeProcess:
    name: str
    port: int
    database: DatabaseUrl
    backend_port: int | None = None
    backend_token: str | None = None
    parties: tuple[PartySpec, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.backend_port}"

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"


@dataclass
class Demo:
    topology: Topology
    database_url: str | None = None
    postgres_nodes: tuple[str, ...] | None = None
    """With a PostgreSQL `database_url`: only these nodes use it (the rest SQLite); None = all.
    Each PostgreSQL node holds several pooled connections, so a 7-node topology on one server
    can exhaust its `max_connections`."""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ocpi-demo-")))
    keep_workdir: bool = False
    """Leave the work folder (logs, SQLite files, configs) behind on `close()`."""
    nodes: dict[str, NodeProcess] = field(default_factory=dict)
    backends: subprocess.Popen[bytes] | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    connections: dict[tuple[str, str], str] = field(default_factory=dict)
    """(initiator, receiver) -> the connection id on the initiator's node ..."""
    peer_connections: dict[tuple[str, str], str] = field(default_factory=dict)
    """... and on the receiver's node."""

    # ---- start -------------------------------------------------------------------------------

    def start(self) -> None:
        if self.topology.has_hub:
            self.nodes[HUB_NAME] = NodeProcess(HUB_NAME, free_port(), self._database(HUB_NAME))
        for platform in self.topology.platforms:
            self.nodes[platform.name] = NodeProcess(
                platform.name,
                free_port(),
                self._database(platform.name),
                backend_port=free_port(),
                backend_token=secrets.token_urlsafe(24),
                parties=platform.parties,
            )
        self._start_backends()
        for node in self.nodes.values():
            node.process = self._spawn(self._node_command(node), self._node_env(node))
        for node in self.nodes.values():
            self._wait_serving(node)

    def _database(self, name: str) -> DatabaseUrl:
        slug = "".join(c if c.isalnum() else "_" for c in name.lower())
        if self.database_url and (self.postgres_nodes is None or name in self.postgres_nodes):
            base = parse_database_url(self.database_url)
            if base.is_postgres:
                return base.with_schema(f"demo_{self.run_id}_{slug}")
        return parse_database_url(f"sqlite:///{self.workdir / slug}.db")

    def _start_backends(self) -> None:
        specs = []
        for node in self.nodes.values():
            if not node.parties:
                continue
            specs.append(
                {
                    "port": node.backend_port,
                    "config": {
                        "parties": [
                            {
                                "country_code": p.country_code,
                                "party_id": p.party_id,
                                "role": p.role,
                                "name": p.name,
                            }
                            for p in node.parties
                        ],
                        "mode": "backend",
                        "backend_token": node.backend_token,
                        "node_url": node.url,
                        "callback_delay_ms": 10,
                    },
                }
            )
        path = self.workdir / "backends.json"
        path.write_text(json.dumps(specs))
        self.backends = self._spawn([sys.executable, "-m", "api.demo.backends", str(path)], None)
        for node in self.nodes.values():
            if node.parties:
                self._wait_http(f"{node.backend_url}/_sim/log", self.backends, node.name)

    def _node_command(self, node: NodeProcess) -> list[str]:
        return [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--port",
            str(node.port),
            "--log-level",
            "warning",
        ]

    def _node_env(self, node: NodeProcess) -> dict[str, str]:
        env = {
            "OCPI_LEDGER_DATABASE_URL": _url_text(node.database),
            "OCPI_LEDGER_BASE_URL": node.url,
            "OCPI_LEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        if not node.parties:
            env |= {"OCPI_LEDGER_MODE": "hub", "OCPI_LEDGER_PARTY": "*".join(HUB_PARTY)}
            return env
        config = self.workdir / f"{node.name.replace('+', '_')}.toml"
        config.write_text(node_config_toml(node))
        first = node.parties[0]
        env |= {
            "OCPI_LEDGER_MODE": "platform",
            "OCPI_LEDGER_PARTY": f"{first.country_code}*{first.party_id}",
            "OCPI_LEDGER_CONFIG": str(config),
        }
        return env

    def _spawn(self, command: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        name = f"process-{len(list(self.workdir.glob('process-*')))}.log"
        # the child keeps its own copy of the file descriptor
        with open(self.workdir / name, "wb") as log:
            return subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, **(env or {}), "PYTHONPATH": str(REPO)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches us, not the children
            )

    def _wait_serving(self, node: NodeProcess) -> None:
        assert node.process is not None
        self._wait_http(f"{node.url}/health", node.process, node.name)

    @staticmethod
    def _wait_http(url: str, process: subprocess.Popen[bytes], name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while starting")
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start within {START_TIMEOUT_S:.0f} s")

    # ---- connect -----------------------------------------------------------------------------

    def connect(self) -> None:
        """Each link: an invitation on one node, connect (the real handshake) on the other."""
        for a, b in self.topology.links:
            self._handshake(self.nodes[a], self.nodes[b])
        for member in self.topology.hub_members:
            self._handshake(self.nodes[member], self.nodes[HUB_NAME])

    def _handshake(self, initiator: NodeProcess, receiver: NodeProcess) -> None:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        label = f"{initiator.name} -> {receiver.name}"
        invitation = httpx.post(
            f"{receiver.url}/admin/invitations", json={"label": label}, headers=admin, timeout=10
        )
        invitation.raise_for_status()
        invited = invitation.json()
        connected = httpx.post(
            f"{initiator.url}/admin/connections",
            json={
                "label": label,
                "versions_url": invited["versions_url"],
                "token_a": invited["token_a"],
            },
            headers=admin,
            timeout=20,
        )
        connected.raise_for_status()
        pair = (initiator.name, receiver.name)
        self.connections[pair] = str(connected.json().get("id", ""))
        self.peer_connections[pair] = str(invited.get("id", ""))

    # ---- stop --------------------------------------------------------------------------------

    def addresses(self) -> list[str]:
        """Where each process of the demo listens, for `--keep-running`."""
        return [
            f"{name}: {node.url} (admin token {ADMIN_TOKEN})" for name, node in self.nodes.items()
        ]

    def children(self) -> list[subprocess.Popen[bytes] | None]:
        """Every process the demo started (stopped by `close`)."""
        return [n.process for n in self.nodes.values() if n.process] + [self.backends]

    def close(self) -> None:
        children = self.children()
        for child in children:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in children:
            if child is None:
                continue
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        try:
            for node in self.nodes.values():
                drop_schema(node.database)
        finally:
            if not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)


def node_config_toml(node: NodeProcess) -> str:
    lines = []
    for party in node.parties:
        lines += [
            "[[parties]]",
            f'country_code = "{party.country_code}"',
            f'party_id = "{party.party_id}"',
            f'role = "{party.role}"',
            f'backend_url = "{node.backend_url}/ocpi/versions"',
            f'backend_token = "{node.backend_token}"',
            "[parties.business_details]",
            f'name = "{party.name}"',
            "",
        ]
    return "\n".join(lines)


def _url_text(url: DatabaseUrl) -> str:
    if url.is_postgres:
        user = f"{url.user}@" if url.user else ""
        return f"postgresql://{user}{url.host}:{url.port}/{url.dbname}?schema={url.schema}"
    return f"sqlite:///{url.sqlite_path}"


def platform_names(platforms: tuple[PlatformSpec, ...]) -> list[str]:
    return [p.name for p in platforms]
