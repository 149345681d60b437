"""Credentials handshake (token A -> B -> C), both as the server and as the client.

Server side (we issued token A): POST registers, PUT re-registers / rotates, DELETE unregisters,
GET shows our credentials. Client side: `register(sim, versions_url, token_a)`.

Everything in the platform's `ocpi_version`: the version picked from the peer's list, the shape
of the credentials both ways (2.1.1: one party, no roles; 2.3.0: `hub_party_id` allowed), and
the peer's endpoints (2.1.1 ones carry no interface role: the counterpart of ours is implied).
"""

from __future__ import annotations

from typing import Any

import httpx

from simulator.auth import authorization_header, new_token
from simulator.envelope import OcpiError
from simulator.http import async_client
from simulator.roles import peer_interface_211
from simulator.state import Identity, Peer, PlatformState

HANDSHAKE_TIMEOUT_S = 10.0


class HandshakeError(Exception):
    """The other side's versions / details / credentials could not be used."""


async def _get_data(client: httpx.AsyncClient, url: str, token: str, version: str) -> Any:
    headers = {"Authorization": authorization_header(token, version)}
    response = await client.get(url, headers=headers)
    if response.status_code != 200:
        raise HandshakeError(f"GET {url} answered HTTP {response.status_code}")
    body = response.json()
    if body.get("status_code") != 1000:
        raise HandshakeError(f"GET {url} answered OCPI status {body.get('status_code')}")
    return body.get("data")


async def fetch_endpoints(
    sim: PlatformState, versions_url: str, token: str
) -> dict[tuple[str, str], str]:
    """GET versions, pick ours, GET its details; (module, interface role) -> URL."""
    version = sim.config.ocpi_version
    async with async_client(HANDSHAKE_TIMEOUT_S) as client:
        try:
            versions = await _get_data(client, versions_url, token, version)
            details_url = next(
                (v["url"] for v in versions or [] if v.get("version") == version), None
            )
            if details_url is None:
                raise HandshakeError(f"{versions_url} offers no OCPI {version}")
            details = await _get_data(client, details_url, token, version)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise HandshakeError(f"cannot read {versions_url}: {exc!r}") from exc
    endpoints: dict[tuple[str, str], str] = {}
    for endpoint in details.get("endpoints", []):
        identifier = endpoint["identifier"]
        # credentials' role is meaningless (d2); index it under both so lookups never miss
        if identifier == "credentials":
            endpoints[("credentials", "SENDER")] = endpoint["url"]
            endpoints[("credentials", "RECEIVER")] = endpoint["url"]
        elif version == "2.1.1":
            role = peer_interface_211(sim.config.parties[0].role, identifier)
            endpoints[(identifier, role)] = endpoint["url"]
        else:
            endpoints[(identifier, endpoint.get("role", ""))] = endpoint["url"]
    return endpoints


def peer_id_for(roles: list[dict[str, Any]], body: Any = None) -> str:
    """CC*PID of the peer: a 2.3.0 hub's `hub_party_id` (its roles are the parties behind it),
    else its first role."""
    hub = body.get("hub_party_id") if isinstance(body, dict) else None
    if isinstance(hub, str) and len(hub) == 5:
        return f"{hub[:2]}*{hub[2:]}".upper()
    if not roles:
        return "peer"
    first = roles[0]
    return f"{first['country_code']}*{first['party_id']}".upper()


def our_credentials(sim: PlatformState, token: str) -> dict[str, Any]:
    roles = sim.credentials_roles()
    if sim.config.is_211:
        # one party, no role (the peer knows it from outside OCPI)
        party = {k: v for k, v in roles[0].items() if k != "role"}
        return {"token": token, "url": sim.versions_url, **party}
    return {"token": token, "url": sim.versions_url, "roles": roles}


def parse_credentials(version: str, body: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """(token, url, roles) of a Credentials object of `version`; a 2.1.1 party has no role."""
    if not isinstance(body, dict):
        raise OcpiError(400, 2001, "body must be a Credentials object")
    token, url = body.get("token"), body.get("url")
    if not isinstance(token, str) or not isinstance(url, str):
        raise OcpiError(400, 2001, "Credentials need token and url")
    if version == "2.1.1":
        party = {k: body.get(k) for k in ("country_code", "party_id", "business_details")}
        if not all(isinstance(party[k], str) for k in ("country_code", "party_id")):
            raise OcpiError(400, 2001, "2.1.1 Credentials need country_code and party_id")
        if "roles" in body:
            raise OcpiError(400, 2001, "2.1.1 Credentials carry no roles")
        return token, url, [{"role": None, **party}]
    roles = body.get("roles")
    if not isinstance(roles, list):
        raise OcpiError(400, 2001, "Credentials need token, url and roles")
    if not roles:
        raise OcpiError(400, 2001, "Credentials.roles needs at least one role")
    if version == "2.3.0" and any(isinstance(r, dict) and r.get("role") == "HUB" for r in roles):
        raise OcpiError(400, 2001, "2.3.0 has no HUB role (a hub sets hub_party_id)")
    return token, url, roles


async def _connect(sim: PlatformState, body: Any, replacing: Peer | None) -> dict[str, Any]:
    version = sim.config.ocpi_version
    their_token, their_url, roles = parse_credentials(version, body)
    try:
        endpoints = await fetch_endpoints(sim, their_url, their_token)
    except HandshakeError as exc:
        raise OcpiError(200, 3001, f"unable to use the client's API: {exc}") from exc
    token_c = new_token()
    peer = Peer(
        id=replacing.id if replacing else peer_id_for(roles, body),
        versions_url=their_url,
        token_we_accept=token_c,
        token_we_send=their_token,
        endpoints=endpoints,
        roles=roles,
        version=version,
    )
    sim.add_peer(peer)
    return our_credentials(sim, token_c)


async def handle_get(sim: PlatformState, identity: Identity) -> dict[str, Any]:
    return our_credentials(sim, identity.token)


async def handle_post(sim: PlatformState, identity: Identity, body: Any) -> dict[str, Any]:
    if identity.kind != "token_a":
        raise OcpiError(405, 2000, "already registered; use PUT to update")
    with sim.lock:
        # token A dies on first use, even if the handshake then fails
        if identity.token not in sim.token_as:
            raise OcpiError(401, 2000, "token A already used")
        sim.token_as.discard(identity.token)
    return await _connect(sim, body, None)


async def handle_put(sim: PlatformState, identity: Identity, body: Any) -> dict[str, Any]:
    if identity.kind != "peer" or identity.peer is None:
        raise OcpiError(405, 2000, "not registered; use POST")
    return await _connect(sim, body, identity.peer)


async def handle_delete(sim: PlatformState, identity: Identity) -> None:
    if identity.kind != "peer" or identity.peer is None:
        raise OcpiError(405, 2000, "not registered")
    sim.remove_peer(identity.peer.id)


async def register(sim: PlatformState, versions_url: str, token_a: str) -> Peer:
    """Run the handshake from our side: we are the Sender, they issued `token_a`."""
    version = sim.config.ocpi_version
    endpoints = await fetch_endpoints(sim, versions_url, token_a)
    credentials_url = endpoints.get(("credentials", "SENDER"))
    if credentials_url is None:
        raise HandshakeError(f"{versions_url} publishes no credentials endpoint")
    token_b = new_token()
    # they call our versions with B before answering, so B must work already
    with sim.lock:
        sim.pending_tokens.add(token_b)
    try:
        async with async_client(HANDSHAKE_TIMEOUT_S) as client:
            response = await client.post(
                credentials_url,
                json=our_credentials(sim, token_b),
                headers={"Authorization": authorization_header(token_a, version)},
            )
        body = response.json()
        if response.status_code != 200 or body.get("status_code") != 1000:
            raise HandshakeError(
                f"credentials POST answered HTTP {response.status_code}: {response.text[:300]}"
            )
        try:
            their_token, their_url, roles = parse_credentials(version, body.get("data"))
        except OcpiError as error:
            raise HandshakeError(f"credentials POST answered {error.message}") from None
        peer = Peer(
            id=peer_id_for(roles, body.get("data")),
            versions_url=their_url,
            token_we_accept=token_b,
            token_we_send=their_token,
            endpoints=endpoints,
            roles=roles,
            version=version,
        )
        sim.add_peer(peer)
        return peer
    finally:
        with sim.lock:
            sim.pending_tokens.discard(token_b)
