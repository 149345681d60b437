"""Simulated OCPI platforms (2.2.1, or 2.1.1 / 2.3.0 with `SimConfig.ocpi_version`) and party
backends for trying the ocpi-ledger node.

Start here: `create_app(SimConfig(...))`, `start_in_thread(app)`, `app.state.sim` (a
`Simulator`: seeding, registration, request log, results) and `Simulator.client(cc, pid)`
(a `PartyClient`).
"""

from simulator.app import create_app
from simulator.client import AsyncCall, OcpiCallError, PartyClient
from simulator.config import SimConfig, SimParty
from simulator.server import RunningServer, start_in_thread
from simulator.simulator import Simulator
from simulator.state import Peer

__all__ = [
    "AsyncCall",
    "OcpiCallError",
    "PartyClient",
    "Peer",
    "RunningServer",
    "SimConfig",
    "SimParty",
    "Simulator",
    "create_app",
    "start_in_thread",
]
