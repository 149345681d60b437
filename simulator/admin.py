"""`/_sim/*` admin endpoints: no token needed (loopback test tool)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Response

from simulator.credentials import HandshakeError
from simulator.simulator import Simulator
from simulator.state import Fault


def _peer_json(sim: Simulator) -> list[dict[str, Any]]:
    with sim.lock:
        return [
            {
                "id": p.id,
                "versions_url": p.versions_url,
                "token_we_accept": p.token_we_accept,
                "token_we_send": p.token_we_send,
                "roles": p.roles,
                "endpoints": [
                    {"identifier": m, "role": r, "url": u} for (m, r), u in p.endpoints.items()
                ],
            }
            for p in sim.peers.values()
        ]


def admin_router(sim: Simulator) -> APIRouter:
    router = APIRouter(prefix="/_sim")

    @router.get("/log")
    async def get_log() -> list[dict[str, Any]]:
        return [entry.to_json() for entry in sim.requests()]

    @router.delete("/log", status_code=204)
    async def clear_log() -> Response:
        sim.clear_log()
        return Response(status_code=204)

    @router.post("/faults", status_code=201)
    async def add_fault(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        try:
            fault = Fault(**spec)
        except (TypeError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from exc
        sim.add_fault(fault)
        return spec

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        sim.clear_faults()
        return Response(status_code=204)

    @router.post("/parties/{country_code}/{party_id}/objects/{module}", status_code=201)
    async def seed(
        country_code: str,
        party_id: str,
        module: str,
        obj: dict[str, Any] = Body(...),  # noqa: B008
    ) -> dict[str, Any]:
        try:
            sim.seed(country_code, party_id, module, obj)
        except (LookupError, KeyError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return obj

    @router.get("/parties/{country_code}/{party_id}/objects/{module}")
    async def owned(country_code: str, party_id: str, module: str) -> list[dict[str, Any]]:
        return sim.owned_objects((country_code.upper(), party_id.upper()), module)

    @router.get("/parties/{country_code}/{party_id}/received/{module}")
    async def received(country_code: str, party_id: str, module: str) -> list[Any]:
        return list(sim.received_objects((country_code.upper(), party_id.upper()), module).values())

    @router.post("/parties/{country_code}/{party_id}/call")
    async def call(
        country_code: str,
        party_id: str,
        spec: dict[str, Any] = Body(...),  # noqa: B008
    ) -> dict[str, Any]:
        """Make a hosted party call its peer, as its own client does (its version's headers and
        token form): a process-run simulator driven over HTTP. `response_url: true` in the
        spec puts a fresh result URL of the party into the body (commands, profiles)."""
        try:
            client = sim.client(country_code, party_id)
            body, result_id = spec.get("body"), None
            if spec.get("response_url") is True:
                url, result_id = client.response_url(spec["module"])
                body = {**(body or {}), "response_url": url}
            to = spec.get("to")
            response = await client.request(
                spec["module"],
                spec["interface"],
                spec["method"],
                spec.get("path", ""),
                to=(to[0], to[1]) if to else None,
                body=body,
                params=spec.get("params"),
                correlation_id=spec.get("correlation_id"),
            )
        except (LookupError, KeyError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from exc
        try:
            answer: Any = response.json()
        except ValueError:
            answer = response.text
        return {
            "http_status": response.status_code,
            "headers": dict(response.headers),
            "body": answer,
            "result_id": result_id,
        }

    @router.get("/results")
    async def results() -> list[dict[str, Any]]:
        with sim.lock:
            return [
                {
                    "id": r.id,
                    "module": r.module,
                    "party": list(r.party),
                    "body": r.body,
                    "headers": r.headers,
                    "time": r.time,
                }
                for r in sim.results
            ]

    @router.get("/callbacks")
    async def callbacks() -> list[dict[str, Any]]:
        with sim.lock:
            return list(sim.sent_callbacks)

    @router.get("/client-infos")
    async def client_infos() -> list[dict[str, Any]]:
        with sim.lock:
            return list(sim.client_infos.values())

    @router.get("/peers")
    async def peers() -> list[dict[str, Any]]:
        return _peer_json(sim)

    @router.post("/token-a", status_code=201)
    async def token_a(spec: dict[str, Any] | None = Body(None)) -> dict[str, str]:  # noqa: B008
        return {"token": sim.add_token_a((spec or {}).get("token"))}

    @router.post("/register")
    async def register(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        try:
            peer = await sim.register(spec["versions_url"], spec["token_a"])
        except (KeyError, HandshakeError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return {"id": peer.id}

    return router
