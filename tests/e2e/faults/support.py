"""Helpers of the process-level fault tests: nodes to kill, platforms to call through them."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from domain.message_steps import step_events
from domain.messages import message_id
from domain.values import Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.store import open_store
from tests.e2e.nodes import ADMIN_TOKEN, REPO, database_url_text
from tests.support.fake_platform import FakePlatform
from tests.support.registration import register_platform


def kill_hard(process: subprocess.Popen[str]) -> None:
    """kill -9: no shutdown hook, no flush, no goodbye."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


@dataclass
class Sender:
    """An eMSP platform registered on the ledger, calling whichever node it is given."""

    token: str
    party_id: str
    connection_id: str
    receiver_party_id: str
    acknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self, request_id: str) -> dict[str, str]:
        return {
            "authorization": "Token " + base64.b64encode(self.token.encode()).decode(),
            "x-request-id": request_id,
            "ocpi-from-country-code": "NL",
            "ocpi-from-party-id": self.party_id,
            "ocpi-to-country-code": "NL",
            "ocpi-to-party-id": self.receiver_party_id,
        }

    def get(self, port: int, request_id: str, path: str = "", timeout: float = 30) -> int | None:
        """GET locations through the node on `port`; the OCPI status, None if cut off."""
        url = f"http://127.0.0.1:{port}/ocpi/2.2.1/locations/sender{path}"
        try:
            response = httpx.get(url, headers=self.headers(request_id), timeout=timeout)
        except httpx.TransportError:
            return None
        status = response.json().get("status_code")
        if status == 1000:
            with self.lock:
                self.acknowledged.append(request_id)
        return int(status) if status is not None else None


def connect_pair(url: DatabaseUrl, cpo: FakePlatform, emsp: FakePlatform, n: str) -> Sender:
    """Register a CPO and an eMSP platform straight through the registry (as another node or
    an operator's tool would): the nodes learn them from the shared event store."""
    register_platform(url, cpo, Role.CPO, f"C{n}")
    connection_id, token = register_platform(url, emsp, Role.EMSP, f"E{n}")
    return Sender(token, f"E{n}", connection_id, f"C{n}")


def wait_routing(sender: Sender, port: int, timeout: float = 10) -> float:
    """Seconds until the node on `port` routes for `sender` (its table follows the registry)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if sender.get(port, f"probe-{time.monotonic_ns()}", timeout=5) == 1000:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"node on {port} did not route within {timeout} s")


class LedgerReader:
    """Reads the shared ledger directly (one store for many look-ups), as an auditor would."""

    def __init__(self, url: DatabaseUrl) -> None:
        self.store = open_store(url)

    def events(self, sender: Sender, request_id: str) -> list[str]:
        identifier = message_id(sender.connection_id, request_id, 0)
        stored = self.store.ledger.repository.event_store.get(identifier)
        return [type(step).__name__ for event in stored for step in step_events(event)]

    def received_counts(self) -> Counter[str]:
        """How many Received events name each X-Request-ID, whatever the attempt or node."""
        counts: Counter[str] = Counter()
        for notification in self.store.ledger.recorder.select_notifications(0, 1_000_000):
            if notification.topic.endswith(("RoutedMessage.Received", "RoutedMessage.Admitted")):
                counts[self.store.ledger.mapper.to_domain_event(notification).request_id] += 1
        return counts

    def __enter__(self) -> LedgerReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.store.close()


def verify_offline(url: DatabaseUrl) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", "--database-url", database_url_text(url)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def admin_messages(port: int, **params: str) -> list[dict[str, object]]:
    response = httpx.get(
        f"http://127.0.0.1:{port}/admin/messages",
        params={"limit": "1000", **params},
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["data"]["messages"])
