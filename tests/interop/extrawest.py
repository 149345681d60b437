"""An extrawest-ocpi platform (CPO or eMSP) as its own process, and what the test does with it."""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.nodes import free_port
from tests.interop.peer_venv import peer_python

RUNNER = Path(__file__).resolve().parent / "peers" / "extrawest_peer.py"


@dataclass
class Pushed:
    answer: dict[str, Any]  # the library's report: the hub's HTTP status and answer
    sent: list[dict[str, Any]]  # what the library sent for it, in order


@dataclass
class LibraryPeer:
    role: str
    country_code: str
    party_id: str
    url: str
    process: subprocess.Popen[str]
    log: Path

    @property
    def party(self) -> str:
        return f"{self.country_code}*{self.party_id}"

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = httpx.request(method, f"{self.url}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def token_a(self) -> str:
        """A registration token, as the platform's operator hands one to a partner."""
        return str(self._call("POST", "/interop/token-a").json()["token_a"])

    def accept_invitation(self, versions_url: str, token_a: str) -> dict[str, Any]:
        """The platform registers with a hub's invitation (runner code: the library has none)."""
        invitation = {"versions_url": versions_url, "token_a": token_a}
        return dict(self._call("POST", "/interop/register", json=invitation).json())

    def seed(self, module: str, object_id: str, data: dict[str, Any]) -> None:
        """An object in the platform's own backend (what the library's Crud hooks read)."""
        self._call("PUT", f"/interop/objects/{module}/{object_id}", json=data)

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/interop/state").json())

    def wire(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/interop/wire").json())

    def clear_wire(self) -> None:
        self._call("DELETE", "/interop/wire")

    def hub_token(self) -> str:
        """The token the hub gave this platform at registration (its credentials token)."""
        return str(self.state()["hub"]["credentials"]["token"])

    def hub_authorization(self) -> dict[str, str]:
        encoded = base64.b64encode(self.hub_token().encode()).decode()
        return {"Authorization": f"Token {encoded}"}

    def push(
        self, module: str, object_id: str, hub_details_url: str, version: str = "2.2.1"
    ) -> Pushed:
        """The library's own push: POST /push/2.2.1 makes it send the object to the hub.

        The library then GETs `endpoints_url` (the hub's version details), picks the hub's
        Receiver endpoint for the module and sends the object there, its own way.
        """
        state = self.state()
        before = len(self.wire())
        push = {
            "module_id": module,
            "object_id": object_id,
            "receivers": [{"endpoints_url": hub_details_url, "auth_token": self.hub_token()}],
        }
        operator = state["operator_authorization"]
        if version == "2.1.1":  # the library reads 2.1.1 tokens as they are, not Base64
            operator = "Token " + base64.b64decode(operator.split()[1]).decode()
        answer = self._call(
            "POST", f"/push/{version}", json=push, headers={"Authorization": operator}
        )
        sent = [w for w in self.wire()[before:] if w["direction"] == "sent"]
        return Pushed(dict(answer.json()["receiver_responses"][0]), sent)

    def stop(self) -> str:
        """Stops the process; returns the end of its log (the library logs every request)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        tail = self.log.read_text(errors="replace")[-4000:]
        shutil.rmtree(self.log.parent, ignore_errors=True)
        return tail


def start_library_peer(
    role: str,
    country_code: str,
    party_id: str,
    *,
    trailing_slash: bool = True,
    ocpi_version: str = "2.2.1",
) -> LibraryPeer:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="interop-peer-"))  # py_ocpi reads a .env from its cwd
    log = workdir / "peer.log"
    process = subprocess.Popen(
        [str(peer_python()), str(RUNNER), "--role", role, "--port", str(port),
         "--country", country_code, "--party", party_id,
         "--ocpi-version", ocpi_version, *([] if trailing_slash else ["--no-trailing-slash"])],
        cwd=workdir,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    peer = LibraryPeer(role, country_code, party_id, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{role} peer exited: {peer.stop()}")
        try:
            if httpx.get(f"{peer.url}/interop/wire", timeout=1).status_code == 200:
                return peer
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{role} peer did not start in time: {peer.stop()}")
