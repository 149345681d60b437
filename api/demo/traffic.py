"""Sample traffic between an eMSP and a CPO, sent through their nodes' egress as their backends.

Per pair: the CPO pushes a location, the eMSP pushes a token, the eMSP GETs the location, the
eMSP starts a session (command) and waits for the async result at its backend, the CPO posts a
CDR. Each exchange has its own X-Correlation-ID, so every node it crossed can be checked.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from api.demo.orchestrator import NodeProcess
from api.demo.topologies import PartySpec
from simulator import samples

RESULT_TIMEOUT_S = 10.0
EXCHANGES = ("location push", "token push", "location GET", "command", "CDR")


@dataclass
class Exchange:
    emsp: PartySpec
    cpo: PartySpec
    name: str
    correlation_id: str
    http_status: int = 0
    ocpi_status: int | None = None
    route: str = ""
    reason: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.http_status in (200, 201) and self.ocpi_status == 1000


@dataclass
class Side:
    party: PartySpec
    node: NodeProcess

    @property
    def token_header(self) -> str:
        assert self.node.backend_token is not None
        return f"Token {base64.b64encode(self.node.backend_token.encode()).decode()}"


async def exchange_pair(
    client: httpx.AsyncClient,
    emsp: Side,
    cpo: Side,
    on_done: Callable[[Exchange], None] = lambda _: None,
) -> list[Exchange]:
    tag = f"{emsp.party.party_id}{cpo.party.party_id}"
    location = samples.location(*cpo.party.ref, f"LOC{tag}")
    token = samples.token(*emsp.party.ref, f"TOK{tag}")
    await client.post(
        f"{cpo.node.backend_url}/_sim/parties/{cpo.party.country_code}/{cpo.party.party_id}"
        "/objects/locations",
        json=location,
    )
    results: list[Exchange] = []

    async def send(
        name: str,
        sender: Side,
        receiver: Side,
        method: str,
        path: str,
        body: object = None,
        params: dict[str, str] | None = None,
    ) -> Exchange:
        exchange = Exchange(emsp.party, cpo.party, name, str(uuid.uuid4()))
        headers = {
            "Authorization": sender.token_header,
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": exchange.correlation_id,
            "OCPI-from-country-code": sender.party.country_code,
            "OCPI-from-party-id": sender.party.party_id,
            "OCPI-to-country-code": receiver.party.country_code,
            "OCPI-to-party-id": receiver.party.party_id,
        }
        try:
            response = await client.request(
                method,
                f"{sender.node.url}/egress/{path}",
                headers=headers,
                json=body,
                params=params,
            )
            exchange.http_status = response.status_code
            exchange.ocpi_status = response.json().get("status_code")
            exchange.route = response.headers.get("x-ledger-route", "")
            exchange.reason = response.headers.get("x-ledger-route-reason", "")
            if not exchange.ok:
                exchange.error = response.text[:300]
        except (httpx.HTTPError, ValueError) as error:
            exchange.error = repr(error)
        results.append(exchange)
        on_done(exchange)
        return exchange

    owner = f"{cpo.party.country_code}/{cpo.party.party_id}"
    await send("location push", cpo, emsp, "PUT", f"locations/receiver/{owner}/LOC{tag}", location)
    emsp_owner = f"{emsp.party.country_code}/{emsp.party.party_id}"
    await send(
        "token push",
        emsp,
        cpo,
        "PUT",
        f"tokens/receiver/{emsp_owner}/TOK{tag}",
        token,
        {"type": "RFID"},
    )
    await send("location GET", emsp, cpo, "GET", f"locations/sender/LOC{tag}")
    result_id = uuid.uuid4().hex
    response_url = f"{emsp.node.backend_url}/ocpi/emsp/2.2.1/commands/results/{result_id}"
    command = samples.start_session(response_url, token, f"LOC{tag}")
    sent = await send("command", emsp, cpo, "POST", "commands/receiver/START_SESSION", command)
    if sent.ok and not await _wait_result(client, emsp.node.backend_url, result_id):
        sent.error = f"no async command result reached the eMSP within {RESULT_TIMEOUT_S:.0f} s"
    cdr = samples.cdr(*cpo.party.ref, f"CDR{tag}", emsp=emsp.party.ref, token_uid=f"TOK{tag}")
    await send("CDR", cpo, emsp, "POST", "cdrs/receiver", cdr)
    return results


async def _wait_result(client: httpx.AsyncClient, backend_url: str, result_id: str) -> bool:
    deadline = asyncio.get_running_loop().time() + RESULT_TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        results = (await client.get(f"{backend_url}/_sim/results")).json()
        if any(r["id"] == result_id for r in results):
            return True
        await asyncio.sleep(0.05)
    return False
