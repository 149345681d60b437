"""Every module through the mixed-version hub, each message sent by a simulated platform in its
own version (`/_sim/parties/.../call`), in an order that lets the hub learn what it routes by:
locations and tariffs first, then tokens (the hub learns each contract's eMSP), commands with
their async results, sessions, charging profiles, CDRs.

Payments (2.3.0) are not exchanged: they go between a CPO and a PTP, and the simulator serves no
payments module (the hub registers 2.3.0 PTPs and routes the module as it is between 2.3.0
parties, tested in tests/integration/hub), see `NOT_EXCHANGED`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.demo.mixed_versions import MixedVersionsDemo, SimulatorProcess
from api.demo.orchestrator import HUB_NAME
from api.demo.topologies import HUB_PARTY
from simulator import samples

RESULT_TIMEOUT_S = 10.0
MESSAGES = 31
"""How many messages `run_mixed_traffic` sends (for its progress bar)."""
NOT_EXCHANGED = {
    "payments": "OCPI 2.3.0 payments go between a CPO and a PTP (payment terminal provider, a role"
    " new in 2.3.0); the simulated platforms serve no payments module, so none is in this"
    " topology; the hub registers 2.3.0 PTPs and routes the module between 2.3.0 parties as it"
    " is (tests/integration/hub/test_routing_between_versions.py)",
}


@dataclass
class Sent:
    """One message a simulated platform sent through the hub, and what came back."""

    name: str
    module: str
    sender: str  # platform name
    receivers: tuple[str, ...]  # the platforms it is meant to reach (HUB_NAME: the hub answers)
    object_id: str = ""
    http_status: int = 0
    ocpi_status: int | None = None
    data: Any = None
    error: str = ""
    result: Any = None  # the async result the sender received (commands, charging profiles)
    expects_result: bool = False

    @property
    def ok(self) -> bool:
        answered = not self.error and self.http_status in (200, 201) and self.ocpi_status == 1000
        return answered and (self.result is not None or not self.expects_result)


@dataclass
class MixedTraffic:
    demo: MixedVersionsDemo
    client: httpx.AsyncClient
    on_done: Callable[[Sent], None] = lambda _: None
    sent: list[Sent] = field(default_factory=list)

    def _sim(self, name: str) -> SimulatorProcess:
        return self.demo.simulator(name)

    async def send(
        self,
        sent: Sent,
        interface: str,
        method: str,
        path: str = "",
        *,
        to: str | None = None,
        body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Sent:
        """`to`: a platform name, "hub" (addressed to the hub: a broadcast), or None (2.1.1)."""
        sender = self._sim(sent.sender)
        target = None
        if to == "hub":
            target = list(HUB_PARTY)
        elif to is not None:
            target = list(self._sim(to).party.ref)
        spec = {
            "module": sent.module,
            "interface": interface,
            "method": method,
            "path": path,
            "to": target,
            "body": body,
            "params": params,
            "response_url": sent.expects_result,
        }
        party = sender.party
        try:
            answer = await self.client.post(
                f"{sender.url}/_sim/parties/{party.country_code}/{party.party_id}/call",
                json=spec,
            )
            answer.raise_for_status()
            called = answer.json()
            sent.http_status = called["http_status"]
            envelope = called["body"] if isinstance(called["body"], dict) else {}
            sent.ocpi_status = envelope.get("status_code")
            sent.data = envelope.get("data")
            if sent.http_status not in (200, 201) or sent.ocpi_status != 1000:
                sent.error = str(called["body"])[:300]
            elif sent.expects_result:
                sent.result = await self._wait_result(sender, called["result_id"])
                if sent.result is None:
                    sent.error = f"no async result within {RESULT_TIMEOUT_S:.0f} s"
        except (httpx.HTTPError, ValueError, KeyError) as error:
            sent.error = repr(error)
        self.sent.append(sent)
        self.on_done(sent)
        return sent

    async def _wait_result(self, sim: SimulatorProcess, result_id: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RESULT_TIMEOUT_S
        while loop.time() < deadline:
            results = (await self.client.get(f"{sim.url}/_sim/results")).json()
            found = next((r for r in results if r["id"] == result_id), None)
            if found is not None:
                return found["body"]
            await asyncio.sleep(0.05)
        return None

    async def seed(self, name: str, module: str, obj: dict[str, Any]) -> None:
        party = self._sim(name).party
        seeded = await self.client.post(
            f"{self._sim(name).url}/_sim/parties/{party.country_code}/{party.party_id}"
            f"/objects/{module}",
            json=obj,
        )
        seeded.raise_for_status()


def _owner_path(demo: MixedVersionsDemo, name: str, object_id: str) -> str:
    country_code, party_id = demo.simulator(name).party.ref
    return f"{country_code}/{party_id}/{object_id}"


EMSPS = ("eMSP2", "eMSP3")
ALL_EMSPS = (*EMSPS, "eMSP5")


async def run_mixed_traffic(
    demo: MixedVersionsDemo, on_done: Callable[[Sent], None] = lambda _: None
) -> list[Sent]:
    async with httpx.AsyncClient(timeout=30) as client:
        traffic = MixedTraffic(demo, client, on_done)
        await _locations_and_tariffs(traffic)
        await _tokens(traffic)
        await _commands(traffic)
        await _sessions_profiles_and_cdrs(traffic)
        await _the_2_1_1_emsp(traffic)
        await _authorisations_and_lists(traffic)
        return traffic.sent


def token_of(demo: MixedVersionsDemo, emsp: str) -> dict[str, Any]:
    """The token each eMSP pushes (and starts sessions with): TOK2 of eMSP2, ..., in its
    version's shape."""
    party = demo.simulator(emsp).party
    uid = f"TOK{party.name[-1]}"
    if demo.simulator(emsp).version == "2.1.1":
        return samples.token_211(uid, auth_id=samples.contract_id(*party.ref, uid))
    return samples.token(*party.ref, uid)


async def _locations_and_tariffs(traffic: MixedTraffic) -> None:
    demo = traffic.demo
    cp4 = demo.simulator("CPO4").party
    location_211 = samples.location_211("LOC1")
    location_230 = samples.location(*cp4.ref, "LOC4")
    await traffic.seed("CPO1", "locations", location_211)
    await traffic.seed("CPO4", "locations", location_230)
    # 2.1.1 cannot address anyone: its pushes are broadcast; the 2.3.0 CPO addresses the hub
    await traffic.send(
        Sent("location push", "locations", "CPO1", ALL_EMSPS, "LOC1"),
        "RECEIVER", "PUT", _owner_path(demo, "CPO1", "LOC1"), body=location_211,
    )  # fmt: skip
    await traffic.send(
        Sent("location push", "locations", "CPO4", ALL_EMSPS, "LOC4"),
        "RECEIVER", "PUT", _owner_path(demo, "CPO4", "LOC4"), to="hub", body=location_230,
    )  # fmt: skip
    await traffic.send(
        Sent("tariff push", "tariffs", "CPO1", ALL_EMSPS, "TAR1"),
        "RECEIVER", "PUT", _owner_path(demo, "CPO1", "TAR1"), body=samples.tariff_211("TAR1"),
    )  # fmt: skip
    tariff_230 = samples.tariff_230(*cp4.ref, "TAR4")
    await traffic.send(
        Sent("tariff push", "tariffs", "CPO4", ALL_EMSPS, "TAR4"),
        "RECEIVER", "PUT", _owner_path(demo, "CPO4", "TAR4"), to="hub", body=tariff_230,
    )  # fmt: skip
    for emsp in EMSPS:
        for cpo, location_id in (("CPO1", "LOC1"), ("CPO4", "LOC4")):
            await traffic.send(
                Sent("location GET", "locations", emsp, (cpo,), location_id),
                "SENDER", "GET", location_id, to=cpo,
            )  # fmt: skip


async def _tokens(traffic: MixedTraffic) -> None:
    for emsp in (*EMSPS, "eMSP5"):  # each eMSP answers authorisations of its own token
        await traffic.seed(emsp, "tokens", token_of(traffic.demo, emsp))
    # the 2.2.1 eMSP addresses each CPO; the 2.3.0 one pushes to the hub, which broadcasts it
    # and keeps it for list GETs (a 2.1.1 CPO's among them)
    token = token_of(traffic.demo, "eMSP2")
    for cpo in ("CPO1", "CPO4"):
        await traffic.send(
            Sent("token push", "tokens", "eMSP2", (cpo,), token["uid"]),
            "RECEIVER", "PUT", _owner_path(traffic.demo, "eMSP2", token["uid"]),
            to=cpo, body=token, params={"type": "RFID"},
        )  # fmt: skip
    token = token_of(traffic.demo, "eMSP3")
    await traffic.send(
        Sent("token push", "tokens", "eMSP3", ("CPO1", "CPO4"), token["uid"]),
        "RECEIVER", "PUT", _owner_path(traffic.demo, "eMSP3", token["uid"]),
        to="hub", body=token, params={"type": "RFID"},
    )  # fmt: skip


async def _commands(traffic: MixedTraffic) -> None:
    for emsp, cpo, location_id in (
        ("eMSP2", "CPO1", "LOC1"),
        ("eMSP3", "CPO1", "LOC1"),
        ("eMSP2", "CPO4", "LOC4"),
    ):
        command = samples.start_session("", token_of(traffic.demo, emsp), location_id)
        command.pop("response_url")  # the sender puts one of its own in
        await traffic.send(
            Sent("START_SESSION", "commands", emsp, (cpo,), expects_result=True),
            "RECEIVER", "POST", "START_SESSION", to=cpo, body=command,
        )  # fmt: skip


def session_id(cpo: str, emsp: str) -> str:
    return f"S{cpo[-1]}{emsp[-1]}"


def cdr_id(cpo: str, emsp: str) -> str:
    return f"CDR{cpo[-1]}{emsp[-1]}"


async def _sessions_profiles_and_cdrs(traffic: MixedTraffic) -> None:
    demo = traffic.demo
    cp4 = demo.simulator("CPO4").party
    location_211 = samples.location_211("LOC1")
    # 2.1.1 sessions and CDRs name the token by auth_id: the hub routes them to its eMSP
    for emsp in EMSPS:
        auth_id = token_of(demo, emsp)["contract_id"]
        sid, cid = session_id("CPO1", emsp), cdr_id("CPO1", emsp)
        session = samples.session_211(sid, auth_id=auth_id, location=location_211)
        await traffic.send(
            Sent("session push", "sessions", "CPO1", (emsp,), sid),
            "RECEIVER", "PUT", _owner_path(demo, "CPO1", sid), body=session,
        )  # fmt: skip
        cdr = samples.cdr_211(cid, auth_id=auth_id, location=location_211)
        await traffic.send(
            Sent("CDR push", "cdrs", "CPO1", (emsp,), cid),
            "RECEIVER", "POST", body=cdr,
        )  # fmt: skip
    emsp2 = demo.simulator("eMSP2").party
    uid = token_of(demo, "eMSP2")["uid"]
    sid, cid = session_id("CPO4", "eMSP2"), cdr_id("CPO4", "eMSP2")
    session = samples.session(*cp4.ref, sid, emsp=emsp2.ref, token_uid=uid, location_id="LOC4")
    await traffic.send(
        Sent("session push", "sessions", "CPO4", ("eMSP2",), sid),
        "RECEIVER", "PUT", _owner_path(demo, "CPO4", sid), to="eMSP2", body=session,
    )  # fmt: skip
    await traffic.send(
        Sent("charging profile", "chargingprofiles", "eMSP2", ("CPO4",), sid,
             expects_result=True),
        "RECEIVER", "PUT", sid, to="CPO4",
        body={"charging_profile": samples.charging_profile()},
    )  # fmt: skip
    cdr = samples.cdr_230(*cp4.ref, cid, emsp=emsp2.ref, token_uid=uid, location_id="LOC4")
    await traffic.send(
        Sent("CDR push", "cdrs", "CPO4", ("eMSP2",), cid),
        "RECEIVER", "POST", to="eMSP2", body=cdr,
    )  # fmt: skip


async def _the_2_1_1_emsp(traffic: MixedTraffic) -> None:
    """A 2.1.1 eMSP names no receiver: its token push is broadcast to the CPOs, its GET and
    command go to the location's owner; the 2.3.0 CPO's session and CDR reach it in 2.1.1."""
    demo = traffic.demo
    token = token_of(demo, "eMSP5")
    await traffic.send(
        Sent("token push", "tokens", "eMSP5", ("CPO1", "CPO4"), token["uid"]),
        "RECEIVER", "PUT", _owner_path(demo, "eMSP5", token["uid"]), body=token,
    )  # fmt: skip
    await traffic.send(
        Sent("location GET", "locations", "eMSP5", ("CPO4",), "LOC4"), "SENDER", "GET", "LOC4"
    )
    command = samples.start_session("", token, "LOC4")
    command.pop("response_url")
    await traffic.send(
        Sent("START_SESSION", "commands", "eMSP5", ("CPO4",), expects_result=True),
        "RECEIVER", "POST", "START_SESSION", body=command,
    )  # fmt: skip
    cp4, em5 = demo.simulator("CPO4").party, demo.simulator("eMSP5").party
    sid, cid = session_id("CPO4", "eMSP5"), cdr_id("CPO4", "eMSP5")
    session = samples.session(
        *cp4.ref, sid, emsp=em5.ref, token_uid=token["uid"], location_id="LOC4"
    )
    await traffic.send(
        Sent("session push", "sessions", "CPO4", ("eMSP5",), sid),
        "RECEIVER", "PUT", _owner_path(demo, "CPO4", sid), to="eMSP5", body=session,
    )  # fmt: skip
    cdr = samples.cdr_230(*cp4.ref, cid, emsp=em5.ref, token_uid=token["uid"], location_id="LOC4")
    await traffic.send(
        Sent("CDR push", "cdrs", "CPO4", ("eMSP5",), cid),
        "RECEIVER", "POST", to="eMSP5", body=cdr,
    )  # fmt: skip


async def _authorisations_and_lists(traffic: MixedTraffic) -> None:
    """Real-time authorisation across versions both ways, a 2.1.1 session update (it names no
    token: it goes where its session went), and list GETs answered from the hub's store."""
    demo = traffic.demo
    uid2, uid5 = token_of(demo, "eMSP2")["uid"], token_of(demo, "eMSP5")["uid"]
    await traffic.send(
        Sent("authorisation", "tokens", "CPO1", ("eMSP2",), uid2),
        "SENDER", "POST", f"{uid2}/authorize",
    )  # fmt: skip
    await traffic.send(
        Sent("authorisation", "tokens", "CPO4", ("eMSP5",), uid5),
        "SENDER", "POST", f"{uid5}/authorize", to="eMSP5", params={"type": "RFID"},
    )  # fmt: skip
    sid = session_id("CPO1", "eMSP2")
    await traffic.send(
        Sent("session update", "sessions", "CPO1", ("eMSP2",), sid),
        "RECEIVER", "PATCH", _owner_path(demo, "CPO1", sid),
        body={"kwh": 5.5, "last_updated": "2024-01-01T10:30:00Z"},
    )  # fmt: skip
    await traffic.send(Sent("token list GET", "tokens", "CPO1", (HUB_NAME,)), "SENDER", "GET")
    await traffic.send(
        Sent("location list GET", "locations", "eMSP3", (HUB_NAME,)), "SENDER", "GET", to="hub"
    )
