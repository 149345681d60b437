"""The simulated platform's HTTP face: `create_app(config) -> FastAPI`.

OCPI endpoints live under `/ocpi` (layout in roles.py). The `/_sim/*` admin endpoints (request
log, fault injection, seeding, results, registration) need no token: this is a loopback test
tool, never to be exposed beyond the test machine.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulator import credentials
from simulator.admin import admin_router
from simulator.auth import token_candidates
from simulator.config import SimConfig
from simulator.envelope import OcpiError, envelope, functional_modules
from simulator.faults import SimMiddleware
from simulator.modules import HANDLERS, Call, Reply, hubclientinfo_receiver
from simulator.roles import SEGMENT_ROLES, SENDER, hosted_interfaces, implements, interface_of
from simulator.roles import version_endpoints as build_endpoints
from simulator.simulator import Simulator
from simulator.state import Identity, PartyKey

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
RESULT_MODULES = frozenset({"commands", "chargingprofiles"})
RESULT_ROLES = frozenset({"EMSP", "SCSP"})


def _echo_headers(request: Request) -> dict[str, str]:
    headers = {
        name: request.headers[name]
        for name in ("X-Request-ID", "X-Correlation-ID")
        if name in request.headers
    }
    if getattr(request.state, "functional", False):
        # the answer goes back to whoever asked, from whoever was asked
        for ours, theirs in (("to", "from"), ("from", "to")):
            for field in ("country-code", "party-id"):
                value = request.headers.get(f"OCPI-{theirs}-{field}")
                if value:
                    headers[f"OCPI-{ours}-{field}"] = value.upper()
    return headers


def _respond(request: Request, reply: Reply, answering: PartyKey | None = None) -> JSONResponse:
    headers = _echo_headers(request)
    if answering is not None and not getattr(request.state, "is_211", False):
        headers["OCPI-from-country-code"], headers["OCPI-from-party-id"] = answering
    headers.update(reply.headers)
    return JSONResponse(
        envelope(reply.data, reply.status_code, reply.status_message),
        status_code=reply.http_status,
        headers=headers,
    )


def _routing_pair(request: Request, direction: str) -> PartyKey | None:
    cc = request.headers.get(f"OCPI-{direction}-country-code")
    pid = request.headers.get(f"OCPI-{direction}-party-id")
    return (cc.upper(), pid.upper()) if cc and pid else None


def _peer_party(identity: Identity) -> PartyKey:
    """The party behind a 2.1.1 caller: the one its credentials named."""
    roles = identity.peer.roles if identity.peer is not None else []
    if not roles:
        return ("", "")
    return (
        str(roles[0].get("country_code", "")).upper(),
        str(roles[0].get("party_id", "")).upper(),
    )


def create_app(config: SimConfig, sim: Simulator | None = None) -> FastAPI:
    sim = sim or Simulator(config)
    version = sim.config.ocpi_version
    app = FastAPI(title="ocpi-ledger simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = sim
    app.add_middleware(SimMiddleware, sim=sim)
    app.include_router(admin_router(sim))

    @app.exception_handler(OcpiError)
    async def ocpi_error(request: Request, exc: OcpiError) -> JSONResponse:
        headers = _echo_headers(request) | exc.headers
        return JSONResponse(
            envelope(status_code=exc.status_code, status_message=exc.message),
            status_code=exc.http_status,
            headers=headers,
        )

    async def begin(request: Request, *, allow_token_a: bool) -> tuple[Identity, Any]:
        """Authenticate and parse the body; what every OCPI endpoint does first."""
        if not sim.config.public_url:
            # first request teaches us our own address when nobody told us
            sim.config.public_url = str(request.base_url).rstrip("/")
        identity = sim.authenticate(token_candidates(request.headers.get("Authorization")))
        if identity is None:
            raise OcpiError(401, 2000, "missing or unknown Authorization token")
        if identity.kind == "token_a" and not allow_token_a:
            raise OcpiError(401, 2000, "token A only opens versions and credentials")
        if identity.kind == "peer" and identity.peer is None and not allow_token_a:
            raise OcpiError(401, 2000, "registration still in progress")
        raw = await request.body()
        if not raw:
            return identity, None
        try:
            return identity, json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise OcpiError(400, 2001, f"request body is not valid JSON: {exc}") from exc

    @app.get("/ocpi/versions")
    async def versions(request: Request) -> JSONResponse:
        await begin(request, allow_token_a=True)
        data = [{"version": version, "url": f"{sim.base_url}/ocpi/{version}"}]
        return _respond(request, Reply(data=data))

    @app.get(f"/ocpi/{version}")
    async def version_details(request: Request) -> JSONResponse:
        await begin(request, allow_token_a=True)
        data = {"version": version, "endpoints": build_endpoints(sim.config, sim.base_url)}
        return _respond(request, Reply(data=data))

    @app.api_route(f"/ocpi/{version}/credentials", methods=["GET", "POST", "PUT", "DELETE"])
    async def credentials_endpoint(request: Request) -> JSONResponse:
        if sim.config.mode != "platform":
            raise OcpiError(404, 2000, "backend mode has no credentials module")
        identity, body = await begin(request, allow_token_a=True)
        if identity.kind == "peer" and identity.peer is None:
            raise OcpiError(401, 2000, "registration still in progress")
        if request.method == "GET":
            data = await credentials.handle_get(sim, identity)
        elif request.method == "POST":
            data = await credentials.handle_post(sim, identity, body)
        elif request.method == "PUT":
            data = await credentials.handle_put(sim, identity, body)
        else:
            await credentials.handle_delete(sim, identity)
            data = None
        return _respond(request, Reply(data=data))

    @app.api_route(
        f"/ocpi/{version}/hubclientinfo/{{country_code}}/{{party_id}}", methods=["GET", "PUT"]
    )
    async def hubclientinfo(request: Request, country_code: str, party_id: str) -> JSONResponse:
        if sim.config.mode != "platform" or sim.config.is_211:
            raise OcpiError(404, 2000, "backend mode has no hubclientinfo module")
        _, body = await begin(request, allow_token_a=False)
        subject = (country_code.upper(), party_id.upper())
        return _respond(request, await hubclientinfo_receiver(sim, request.method, subject, body))

    async def functional(request: Request, segment: str, module: str, rest: str) -> JSONResponse:
        request.state.functional = True
        request.state.is_211 = sim.config.is_211
        role = SEGMENT_ROLES.get(segment)
        parts = [p for p in rest.split("/") if p]
        if role is None or module not in functional_modules(version):
            raise OcpiError(404, 2000, f"no endpoint {request.url.path}")
        is_result = module in RESULT_MODULES and role in RESULT_ROLES and parts[:1] == ["results"]
        interface = SENDER if is_result else interface_of(role, module)
        published = hosted_interfaces(sim.config).get((module, interface or ""))
        if interface is None or (not is_result and published != segment):
            raise OcpiError(404, 2000, f"this platform publishes no endpoint {request.url.path}")
        identity, body = await begin(request, allow_token_a=False)
        requester = _routing_pair(request, "from")
        addressed = _routing_pair(request, "to")
        if sim.config.is_211:
            # 2.1.1 has no routing headers: the caller is the peer's party, we are our one party
            requester = _peer_party(identity)
            addressed = sim.config.parties[0].key
        if requester is None or addressed is None:
            raise OcpiError(400, 2001, "functional requests need OCPI-from-* and OCPI-to-* headers")
        candidates = sim.hosted(*addressed)
        party = next(
            (
                p
                for p in candidates
                if implements(p, module, interface) or (is_result and p.role in RESULT_ROLES)
            ),
            None,
        )
        if party is None:
            why = "does not implement" if candidates else "is not hosted on this platform, so not"
            raise OcpiError(
                404,
                2001,
                f"party {addressed[0]}*{addressed[1]} {why} {module} {interface} here",
            )
        call = Call(
            sim=sim,
            request=request,
            identity=identity,
            module=module,
            interface=interface,
            party=party,
            requester=requester,
            correlation_id=request.headers.get("X-Correlation-ID", ""),
            body=body,
            query=dict(request.query_params),
            endpoint_url=f"{sim.base_url}/ocpi/{segment}/{version}/{module}",
        )
        reply = await HANDLERS[(module, interface)](call, parts)
        return _respond(request, reply, answering=party.key)

    @app.api_route(f"/ocpi/{{segment}}/{version}/{{module}}", methods=ALL_METHODS)
    async def module_root(request: Request, segment: str, module: str) -> JSONResponse:
        return await functional(request, segment, module, "")

    @app.api_route(f"/ocpi/{{segment}}/{version}/{{module}}/{{rest:path}}", methods=ALL_METHODS)
    async def module_path(request: Request, segment: str, module: str, rest: str) -> JSONResponse:
        return await functional(request, segment, module, rest)

    return app
