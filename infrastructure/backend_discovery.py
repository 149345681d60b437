"""Reading a hosted backend's module URLs: versions URL -> 2.2.1 details -> endpoints (digest §3).

Blocking HTTP with a short timeout: called once per backend at start; for a backend that
could not be read then, again from a background thread when a message needs it; and for every
backend periodically, since a backend may publish a module (a custom one) after the node started.
"""

from __future__ import annotations

import base64
import logging
import threading

import httpx

from application.local_backends import Endpoints, LocalBackend, LocalBackends
from domain.values import OCPI_VERSION

log = logging.getLogger(__name__)


class BackendUnreadable(Exception):
    pass


def read_endpoints(backend: LocalBackend, timeout: float) -> Endpoints:
    headers = {"Authorization": f"Token {base64.b64encode(backend.token.encode()).decode()}"}
    try:
        with httpx.Client(timeout=timeout) as client:
            versions = client.get(backend.versions_url, headers=headers)
            listed = versions.json().get("data") or []
            details_url = next(v["url"] for v in listed if v.get("version") == OCPI_VERSION)
            details = client.get(details_url, headers=headers)
            endpoints = (details.json().get("data") or {}).get("endpoints") or []
            return {(e["identifier"], str(e["role"]).upper()): e["url"] for e in endpoints}
    except (httpx.HTTPError, ValueError, StopIteration, KeyError, AttributeError) as error:
        raise BackendUnreadable(
            f"cannot read the version details of backend {backend.versions_url}: {error!r}"
        ) from None


class BackendDiscovery:
    """Fills a `LocalBackends` with module URLs; at most one background read per backend."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self.backends = LocalBackends()

    def attach(self, backends: LocalBackends) -> None:
        self.backends = backends

    def read(self, backend: LocalBackend) -> bool:
        try:
            self.backends.discovered(backend, read_endpoints(backend, self.timeout))
        except BackendUnreadable as error:
            log.warning("%s", error)
            return False
        return True

    def read_all(self) -> int:
        """Read every backend again. One that cannot be read keeps what was read before: a
        backend restarting must not make the node forget its modules."""
        for backend in self.backends.all():
            self.read(backend)
        return 0

    def read_later(self, backend: LocalBackend) -> None:
        with self._lock:
            if backend.versions_url in self._running:
                return
            self._running.add(backend.versions_url)

        def run() -> None:
            try:
                self.read(backend)
            finally:
                with self._lock:
                    self._running.discard(backend.versions_url)

        threading.Thread(target=run, name="backend-discovery", daemon=True).start()
