"""`PartyClient`: one hosted party calling out, over either transport.

* peer (platform mode, after `Simulator.register`): call the module URL the peer published in its
  version details, with the token the peer gave us.
* egress (backend mode): call `{node_url}/egress/{module}/{sender|receiver}/{rest of path}` with
  the backend token; the node picks the connection.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from simulator import samples
from simulator.auth import authorization_header
from simulator.config import SimParty
from simulator.envelope import ocpi_now
from simulator.http import async_client
from simulator.roles import RECEIVER, SENDER
from simulator.state import PlatformState, ReceivedResult

Target = tuple[str, str] | None  # (country_code, party_id); None = hub-addressed / open routing


class OcpiCallError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(
            f"{response.request.method} {response.request.url} -> "
            f"HTTP {response.status_code}: {response.text[:300]}"
        )
        self.response = response


@dataclass
class AsyncCall:
    """The synchronous answer to a command / charging-profile request, plus its async result."""

    response: httpx.Response
    result_id: str
    sim: PlatformState

    @property
    def data(self) -> Any:
        return self.response.json().get("data")

    async def result(self, timeout: float = 5.0) -> ReceivedResult:
        return await self.sim.wait_for_result(self.result_id, timeout)


class PartyClient:
    def __init__(
        self, sim: PlatformState, party: SimParty, *, peer: str | None = None, timeout: float = 10.0
    ) -> None:
        self.sim = sim
        self.party = party
        self.peer_id = peer
        self.timeout = timeout

    # -- transport -------------------------------------------------------------------------------

    def url_for(self, module: str, interface: str, path: str = "") -> tuple[str, str]:
        """(URL, token) for calling `module`'s `interface` with `path` after the endpoint."""
        suffix = f"/{path.lstrip('/')}" if path else ""
        config = self.sim.config
        if config.mode == "backend":
            if not config.node_url:
                raise RuntimeError("backend mode needs node_url")
            base = f"{config.node_url.rstrip('/')}/egress/{module}/{interface.lower()}"
            return base + suffix, self.token()
        peer = self.sim.peer(self.peer_id)
        return peer.endpoint(module, interface).rstrip("/") + suffix, peer.token_we_send

    @property
    def version(self) -> str:
        return self.sim.config.ocpi_version

    def headers(self, to: Target, correlation_id: str | None = None) -> dict[str, str]:
        if self.version == "2.1.1":
            return {}  # 2.1.1 has no request ids and no routing headers
        headers = {
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": correlation_id or str(uuid.uuid4()),
            "OCPI-from-country-code": self.party.country_code,
            "OCPI-from-party-id": self.party.party_id,
        }
        if to is not None:
            headers["OCPI-to-country-code"] = to[0].upper()
            headers["OCPI-to-party-id"] = to[1].upper()
        return headers

    async def send(
        self,
        method: str,
        url: str,
        token: str,
        to: Target,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> httpx.Response:
        headers = self.headers(to, correlation_id)
        headers["Authorization"] = authorization_header(token, self.version)
        async with async_client(self.timeout) as client:
            return await client.request(
                method, url, headers=headers, params=params, json=body if body is not None else None
            )

    async def request(
        self,
        module: str,
        interface: str,
        method: str,
        path: str = "",
        *,
        to: Target,
        body: Any = None,
        params: dict[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> httpx.Response:
        url, token = self.url_for(module, interface, path)
        return await self.send(
            method, url, token, to, body=body, params=params, correlation_id=correlation_id
        )

    async def get_url(self, url: str, to: Target) -> httpx.Response:
        """GET a URL someone handed us (a `Link`, a CDR `Location`) with our usual token."""
        return await self.send("GET", url, self.token(), to)

    def token(self) -> str:
        """The token we present: the backend token, or the one our peer issued to us."""
        if self.sim.config.mode == "backend":
            if not self.sim.config.backend_token:
                raise RuntimeError("backend mode needs backend_token")
            return self.sim.config.backend_token
        return self.sim.peer(self.peer_id).token_we_send

    async def get_all(
        self, module: str, to: Target, params: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """GET a Sender list, following `Link: <...>; rel="next"` to the last page."""
        response = await self.request(module, SENDER, "GET", to=to, params=params)
        items: list[dict[str, Any]] = []
        while True:
            if response.status_code != 200 or response.json().get("status_code") != 1000:
                raise OcpiCallError(response)
            items.extend(response.json().get("data") or [])
            link = next_link(response.headers.get("Link"))
            if link is None:
                return items
            response = await self.get_url(link, to)

    def _owner_path(self, obj: dict[str, Any], *ids: str) -> str:
        owner = (
            obj.get("country_code") or self.party.country_code,
            obj.get("party_id") or self.party.party_id,
        )
        return "/".join((*owner, *ids))

    # -- CPO side --------------------------------------------------------------------------------

    async def push_location(self, to: Target, location: dict[str, Any]) -> httpx.Response:
        path = self._owner_path(location, location["id"])
        return await self.request("locations", RECEIVER, "PUT", path, to=to, body=location)

    async def patch_evse_status(
        self,
        to: Target,
        location_id: str,
        evse_uid: str,
        status: str,
        last_updated: str | None = None,
    ) -> httpx.Response:
        path = f"{self.party.country_code}/{self.party.party_id}/{location_id}/{evse_uid}"
        body = {"status": status, "last_updated": last_updated or ocpi_now()}
        return await self.request("locations", RECEIVER, "PATCH", path, to=to, body=body)

    async def push_tariff(self, to: Target, tariff: dict[str, Any]) -> httpx.Response:
        path = self._owner_path(tariff, tariff["id"])
        return await self.request("tariffs", RECEIVER, "PUT", path, to=to, body=tariff)

    async def push_session(self, to: Target, session: dict[str, Any]) -> httpx.Response:
        path = self._owner_path(session, session["id"])
        return await self.request("sessions", RECEIVER, "PUT", path, to=to, body=session)

    async def post_cdr(self, to: Target, cdr: dict[str, Any]) -> httpx.Response:
        return await self.request("cdrs", RECEIVER, "POST", to=to, body=cdr)

    async def get_tokens(self, to: Target, **params: str) -> list[dict[str, Any]]:
        return await self.get_all("tokens", to, params)

    async def authorize(
        self,
        to: Target,
        uid: str,
        token_type: str = "RFID",
        location: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.request(
            "tokens",
            SENDER,
            "POST",
            f"{uid}/authorize",
            to=to,
            body=location,
            params=None if self.version == "2.1.1" else {"type": token_type},
        )

    # -- eMSP side -------------------------------------------------------------------------------

    async def push_token(self, to: Target, token: dict[str, Any]) -> httpx.Response:
        path = self._owner_path(token, token["uid"])
        return await self.request(
            "tokens",
            RECEIVER,
            "PUT",
            path,
            to=to,
            body=token,
            # 2.1.1 token URLs have no type (a uid is unique per eMSP there)
            params=None if self.version == "2.1.1" else {"type": token.get("type", "RFID")},
        )

    async def get_location(
        self,
        to: Target,
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> httpx.Response:
        path = "/".join(p for p in (location_id, evse_uid, connector_id) if p)
        return await self.request("locations", SENDER, "GET", path, to=to)

    async def get_locations(self, to: Target, **params: str) -> list[dict[str, Any]]:
        return await self.get_all("locations", to, params)

    def response_url(self, module: str) -> tuple[str, str]:
        """A fresh response URL of ours for an async result: (url, result id)."""
        if self.party.role not in ("EMSP", "SCSP"):
            raise ValueError("only an eMSP or SCSP party receives async results")
        result_id = uuid.uuid4().hex
        segment = self.party.role.lower()
        url = f"{self.sim.base_url}/ocpi/{segment}/{self.version}/{module}/results/{result_id}"
        return url, result_id

    async def command(self, to: Target, command: str, body: dict[str, Any]) -> AsyncCall:
        """POST a command; `body["response_url"]` is filled in with one of ours."""
        url, result_id = self.response_url("commands")
        body = {**body, "response_url": url}
        response = await self.request("commands", RECEIVER, "POST", command, to=to, body=body)
        return AsyncCall(response, result_id, self.sim)

    async def start_session(
        self,
        to: Target,
        token: dict[str, Any],
        location_id: str,
        evse_uid: str | None = None,
        connector_id: str | None = None,
    ) -> AsyncCall:
        body = samples.start_session("", token, location_id, evse_uid, connector_id)
        return await self.command(to, "START_SESSION", body)

    async def stop_session(self, to: Target, session_id: str) -> AsyncCall:
        return await self.command(to, "STOP_SESSION", samples.stop_session("", session_id))

    async def set_charging_profile(
        self, to: Target, session_id: str, profile: dict[str, Any] | None = None
    ) -> AsyncCall:
        url, result_id = self.response_url("chargingprofiles")
        body = samples.set_charging_profile(url, profile)
        response = await self.request(
            "chargingprofiles", RECEIVER, "PUT", session_id, to=to, body=body
        )
        return AsyncCall(response, result_id, self.sim)

    async def get_active_charging_profile(
        self, to: Target, session_id: str, duration: int = 3600
    ) -> AsyncCall:
        url, result_id = self.response_url("chargingprofiles")
        params = {"duration": str(duration), "response_url": url}
        response = await self.request(
            "chargingprofiles", RECEIVER, "GET", session_id, to=to, params=params
        )
        return AsyncCall(response, result_id, self.sim)

    async def clear_charging_profile(self, to: Target, session_id: str) -> AsyncCall:
        url, result_id = self.response_url("chargingprofiles")
        response = await self.request(
            "chargingprofiles",
            RECEIVER,
            "DELETE",
            session_id,
            to=to,
            params={"response_url": url},
        )
        return AsyncCall(response, result_id, self.sim)


def next_link(header: str | None) -> str | None:
    """The URL of `<URL>; rel="next"` in a Link header, if any."""
    if not header:
        return None
    for part in header.split(","):
        url, _, params = part.strip().partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None
