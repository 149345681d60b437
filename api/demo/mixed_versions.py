"""The mixed-version hub as real processes: `ocpi-ledger serve` as the hub and one simulated
platform per party (`python -m simulator --ocpi-version V`), each registered through the
credentials handshake of its own version (an invitation proposing that version, with the role
for 2.1.1, whose credentials carry none).

A simulated platform is driven over its `/_sim` admin endpoints: its party calls out with its own
client (its version's headers and token form), and what it received is read back from its state.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.demo.orchestrator import ADMIN_TOKEN, HUB_NAME, Demo, NodeProcess, free_port
from api.demo.topologies import MIXED_VERSIONS, PartySpec, PlatformSpec, Topology

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CALLBACK_DELAY_MS = 10


@dataclass
class SimulatorProcess:
    """One simulated platform: one party speaking one OCPI version."""

    platform: PlatformSpec
    port: int
    process: Any = None  # subprocess.Popen[bytes] once started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def party(self) -> PartySpec:
        return self.platform.parties[0]

    @property
    def version(self) -> str:
        return self.platform.ocpi_version

    def config(self) -> dict[str, Any]:
        party = self.party
        return {
            "parties": [
                {
                    "country_code": party.country_code,
                    "party_id": party.party_id,
                    "role": party.role,
                    "name": party.name,
                }
            ],
            "public_url": self.url,
            "callback_delay_ms": CALLBACK_DELAY_MS,
        }


@dataclass
class MixedVersionsDemo(Demo):
    topology: Topology = MIXED_VERSIONS
    simulators: dict[str, SimulatorProcess] = field(default_factory=dict)

    @property
    def hub(self) -> NodeProcess:
        return self.nodes[HUB_NAME]

    def simulator(self, name: str) -> SimulatorProcess:
        return self.simulators[name]

    def start(self) -> None:
        self.nodes[HUB_NAME] = NodeProcess(HUB_NAME, free_port(), self._database(HUB_NAME))
        for platform in self.topology.platforms:
            simulator = SimulatorProcess(platform, free_port())
            path = self.workdir / f"simulator-{platform.name}.json"
            path.write_text(json.dumps(simulator.config()))
            simulator.process = self._spawn(
                [
                    sys.executable, "-m", "simulator", "--config", str(path),
                    "--port", str(simulator.port), "--ocpi-version", simulator.version,
                ],
                None,
            )  # fmt: skip
            self.simulators[platform.name] = simulator
        self.hub.process = self._spawn(self._node_command(self.hub), self._node_env(self.hub))
        self._wait_serving(self.hub)
        for simulator in self.simulators.values():
            self._wait_http(f"{simulator.url}/_sim/log", simulator.process, simulator.party.name)

    def connect(self) -> None:
        """Per platform: the hub invites it in its version (2.1.1: and its role), and the
        simulated platform registers with the invitation's token A (the real handshake)."""
        for name, simulator in self.simulators.items():
            proposal: dict[str, Any] = {"label": name, "ocpi_version": simulator.version}
            if simulator.version == "2.1.1":
                proposal["role"] = simulator.party.role
            invitation = httpx.post(
                f"{self.hub.url}/admin/invitations", json=proposal, headers=ADMIN, timeout=10
            )
            invitation.raise_for_status()
            invited = invitation.json()
            registered = httpx.post(
                f"{simulator.url}/_sim/register",
                json={"versions_url": invited["versions_url"], "token_a": invited["token_a"]},
                timeout=30,
            )
            if registered.status_code != 200:
                raise RuntimeError(
                    f"{name} (OCPI {simulator.version}) could not register: {registered.text}"
                )
            self.peer_connections[(name, HUB_NAME)] = str(invited["id"])

    def addresses(self) -> list[str]:
        simulated = [
            f"{name} (OCPI {s.version}, {s.party.ref[0]}*{s.party.ref[1]}): {s.url} (/_sim/*)"
            for name, s in self.simulators.items()
        ]
        return super().addresses() + simulated

    def children(self) -> list[Any]:
        return [s.process for s in self.simulators.values()] + super().children()
