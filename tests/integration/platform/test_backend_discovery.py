"""A hosted backend's version details are read again while the node runs: a module the backend
publishes later (a custom one) becomes known, and a backend that cannot be read for a while
keeps the modules read before."""

from __future__ import annotations

from application.local_backends import LocalBackend, LocalBackends
from domain.values import CustomModuleId, InterfaceRole, PartyKey, Role
from infrastructure.backend_discovery import BackendDiscovery
from tests.support.fake_platform import FakePlatform, Recorded, Reply, envelope

MODULE = "x-evroaming-reservations"


def test_a_module_a_backend_publishes_after_the_start_is_known_after_the_next_read() -> None:
    platform = FakePlatform("backend").start()
    published: list[dict[str, str]] = []

    def details(_: Recorded) -> Reply:
        return Reply(body=envelope({"version": "2.2.1", "endpoints": list(published)}))

    versions = [{"version": "2.2.1", "url": platform.base}]
    platform.on("GET", "/ocpi/versions", Reply(body=envelope(versions)))
    platform.on("GET", "/ocpi/2.2.1", details)
    party = PartyKey("NL", "CPO", Role.CPO)
    backends = LocalBackends(
        [LocalBackend(f"{platform.url}/ocpi/versions", "backend-token-0123456789", (party,))]
    )
    discovery = BackendDiscovery(timeout=2.0)
    discovery.attach(backends)
    try:
        discovery.read_all()
        assert backends.custom_interfaces() == []

        url = platform.endpoint(MODULE, "RECEIVER")
        published.append({"identifier": MODULE, "role": "RECEIVER", "url": url})
        discovery.read_all()
        expected = [(CustomModuleId(MODULE), InterfaceRole.RECEIVER)]
        assert backends.custom_interfaces() == expected
    finally:
        platform.stop()

    discovery.read_all()  # the backend is down: what was read before stays
    assert backends.custom_interfaces() == expected
