"""Simulated platforms on loopback, started per test and stopped afterwards."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from simulator import RunningServer, SimConfig, SimParty, Simulator, create_app, start_in_thread
from simulator.auth import authorization_header


@dataclass
class Platform:
    server: RunningServer
    sim: Simulator

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def versions_url(self) -> str:
        return f"{self.server.url}/ocpi/versions"

    def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        to: tuple[str, str] | None = None,
        frm: tuple[str, str] = ("XX", "REQ"),
        **kwargs,
    ) -> httpx.Response:
        """A hand-made OCPI request, for checking what the simulator does with odd input."""
        headers = {
            "Authorization": authorization_header(token),
            "X-Request-ID": "req-1",
            "X-Correlation-ID": "corr-1",
            "OCPI-from-country-code": frm[0],
            "OCPI-from-party-id": frm[1],
            **kwargs.pop("headers", {}),
        }
        if to is not None:
            headers["OCPI-to-country-code"], headers["OCPI-to-party-id"] = to
        with httpx.Client(timeout=5, verify=False) as client:
            return client.request(method, self.url + path, headers=headers, **kwargs)


PlatformFactory = Callable[..., Platform]


@pytest.fixture
def platform() -> Iterator[PlatformFactory]:
    started: list[RunningServer] = []

    def start(*parties: SimParty, **options) -> Platform:
        config = SimConfig(parties=list(parties), **options)
        app = create_app(config)
        server = start_in_thread(app)
        started.append(server)
        return Platform(server, app.state.sim)

    yield start
    for server in started:
        server.request_stop()
    for server in started:
        server.stop()


CPO = SimParty("NL", "CPO", "CPO", "Sim CPO")
EMSP = SimParty("DE", "MSP", "EMSP", "Sim eMSP")


def _shared(*parties: SimParty, **options) -> Iterator[Platform]:
    config = SimConfig(parties=list(parties), **options)
    app = create_app(config)
    server = start_in_thread(app)
    yield Platform(server, app.state.sim)
    server.stop()


@pytest.fixture(scope="session")
def _cpo_server() -> Iterator[Platform]:
    yield from _shared(CPO, token_a="token-a-for-cpo", page_limit=2)


@pytest.fixture(scope="session")
def _emsp_server() -> Iterator[Platform]:
    yield from _shared(EMSP, token_a="token-a-for-emsp")


@pytest.fixture
def cpo(_cpo_server: Platform) -> Platform:
    """A CPO-only platform, running for the whole session but blank for every test."""
    _cpo_server.sim.reset()
    return _cpo_server


@pytest.fixture
def emsp(_emsp_server: Platform) -> Platform:
    """An eMSP-only platform, running for the whole session but blank for every test."""
    _emsp_server.sim.reset()
    return _emsp_server
