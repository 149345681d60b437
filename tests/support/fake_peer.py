"""A minimal OCPI 2.2.1 platform for tests: versions, credentials (both directions), the
hubclientinfo Receiver, and faults on its versions endpoint. Replaceable by `simulator/`."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.e2e.nodes import free_port
from tests.support.servers import serving


def envelope(data: Any = None, status_code: int = 1000, http_status: int = 200) -> JSONResponse:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2024-01-01T00:00:00Z"}
    if data is not None:
        body["data"] = data
    return JSONResponse(body, status_code=http_status)


def token_header(token: str, raw: bool = False) -> dict[str, str]:
    value = token if raw else base64.b64encode(token.encode()).decode()
    return {"Authorization": f"Token {value}"}


@dataclass
class FakePlatform:
    roles: list[dict[str, Any]]
    raw_tokens: bool = False  # send tokens un-encoded, and accept only un-encoded ones
    receives_client_info: bool = True
    versions_fault: str | None = None  # None | "down" | "slow" | "garbage" | "no-2.2.1" | ...
    slow_seconds: float = 5.0
    url: str = ""
    accepted: set[str] = field(default_factory=set)  # tokens others may call us with
    outbound: str | None = None  # token we call the node with
    node_credentials: dict[str, Any] | None = None
    client_info: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    versions_calls: int = 0
    barrier: threading.Barrier | None = None  # holds callers of versions until all arrived
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def versions_url(self) -> str:
        return f"{self.url}/ocpi/versions"

    # ---- our side of the credentials exchange -----------------------------------------------

    def credentials(self, token: str) -> dict[str, Any]:
        return {"token": token, "url": self.versions_url, "roles": self.roles}

    def issue_token_a(self) -> str:
        token = secrets.token_urlsafe(16)
        self.accepted.add(token)
        return token

    def register_with(self, versions_url: str, token_a: str) -> httpx.Response:
        """Act as the Sender of a registration on the node (digest §4.3)."""
        headers = token_header(token_a, self.raw_tokens)
        versions = httpx.get(versions_url, headers=headers, timeout=10).json()["data"]
        details_url = next(v["url"] for v in versions if v["version"] == "2.2.1")
        details = httpx.get(details_url, headers=headers, timeout=10).json()["data"]
        credentials_url = next(
            e["url"] for e in details["endpoints"] if e["identifier"] == "credentials"
        )
        token_b = secrets.token_urlsafe(16)
        self.accepted.add(token_b)
        response = httpx.post(
            credentials_url, headers=headers, json=self.credentials(token_b), timeout=30
        )
        if response.status_code == 200 and response.json()["status_code"] == 1000:
            self.node_credentials = response.json()["data"]
            self.outbound = self.node_credentials["token"]
        return response

    # ---- the HTTP side ---------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        if scheme != "Token":
            return False
        if not self.raw_tokens:
            try:
                value = base64.b64decode(value, validate=True).decode()
            except ValueError:
                return False
        return value in self.accepted

    def app(self) -> FastAPI:
        app = FastAPI()
        platform = self
        base = "/ocpi/2.2.1"

        @app.get("/ocpi/versions")
        def versions(request: Request) -> Response:
            with platform.lock:
                platform.versions_calls += 1
            if platform.barrier is not None:
                platform.barrier.wait(10)
            fault = platform.versions_fault
            if fault == "slow":
                time.sleep(platform.slow_seconds)
            if fault == "garbage":
                return Response(b"<html>not ocpi</html>", media_type="text/html")
            if fault == "500":
                return Response(b"oops", status_code=500)
            if not platform._authorized(request):
                return envelope(status_code=2000, http_status=401)
            if fault == "no-2.2.1":
                return envelope([{"version": "2.1.1", "url": f"{platform.url}/ocpi/2.1.1"}])
            return envelope([{"version": "2.2.1", "url": f"{platform.url}{base}"}])

        @app.get(base)
        def details(request: Request) -> Response:
            if not platform._authorized(request):
                return envelope(status_code=2000, http_status=401)
            endpoints = []
            if platform.versions_fault != "no-credentials":
                endpoints.append(
                    {
                        "identifier": "credentials",
                        "role": "SENDER",
                        "url": f"{platform.url}{base}/credentials",
                    }
                )
            endpoints.append(
                {
                    "identifier": "locations",
                    "role": "RECEIVER",
                    "url": f"{platform.url}{base}/locations",
                }
            )
            if platform.receives_client_info:
                endpoints.append(
                    {
                        "identifier": "hubclientinfo",
                        "role": "RECEIVER",
                        "url": f"{platform.url}{base}/clientinfo",
                    }
                )
            return envelope({"version": "2.2.1", "endpoints": endpoints})

        @app.post(base + "/credentials")
        @app.put(base + "/credentials")
        def credentials(request: Request, body: dict[str, Any]) -> Response:
            """The node registers with us (POST with our token A) or rotates (PUT)."""
            if not platform._authorized(request):
                return envelope(status_code=2000, http_status=401)
            presented = platform._presented(request)
            their_token = body["token"]
            headers = token_header(their_token, platform.raw_tokens)
            versions = httpx.get(body["url"], headers=headers, timeout=10)
            if versions.status_code != 200:
                return envelope(status_code=3001)
            details_url = versions.json()["data"][0]["url"]
            if httpx.get(details_url, headers=headers, timeout=10).status_code != 200:
                return envelope(status_code=3001)
            platform.accepted.discard(presented)
            token_c = secrets.token_urlsafe(16)
            platform.accepted.add(token_c)
            platform.outbound = their_token
            platform.node_credentials = body
            return envelope(platform.credentials(token_c))

        @app.delete(base + "/credentials")
        def delete_credentials(request: Request) -> Response:
            if not platform._authorized(request):
                return envelope(status_code=2000, http_status=401)
            platform.accepted.discard(platform._presented(request))
            platform.outbound = None
            return envelope()

        @app.put(base + "/clientinfo/{country_code}/{party_id}")
        async def put_client_info(request: Request, country_code: str, party_id: str) -> Response:
            if not platform._authorized(request):
                return envelope(status_code=2000, http_status=401)
            info = json.loads(await request.body())
            with platform.lock:
                platform.client_info[(country_code, party_id)] = info
                platform.pushes.append(info)
            return envelope()

        return app

    def _presented(self, request: Request) -> str:
        value = (request.headers.get("authorization") or "").partition(" ")[2]
        return value if self.raw_tokens else base64.b64decode(value).decode()

    def call_node(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        assert self.outbound is not None
        headers = {**kwargs.pop("headers", {}), **token_header(self.outbound, self.raw_tokens)}
        return httpx.request(method, url, headers=headers, timeout=30, **kwargs)


def party(role: str, country_code: str, party_id: str) -> dict[str, Any]:
    return {
        "role": role,
        "country_code": country_code,
        "party_id": party_id,
        "business_details": {"name": f"{country_code}*{party_id} {role}"},
    }


@contextmanager
def fake_platform(*roles: dict[str, Any], **options: Any) -> Iterator[FakePlatform]:
    platform = FakePlatform(roles=list(roles), **options)
    port = free_port()
    platform.url = f"http://127.0.0.1:{port}"
    with serving(platform.app(), port):
        yield platform
