"""Functional module interfaces (OCPI 2.2.1 §6) as the hosted parties implement them.

Every handler gets a `Call` (who asks whom, what) and the path segments after the module's
endpoint URL, and returns a `Reply`; `OcpiError` ends the call with an error envelope.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request

from simulator.auth import authorization_header
from simulator.config import SimParty
from simulator.envelope import OcpiError, ocpi_now
from simulator.http import async_client
from simulator.pagination import PageRequest, paginate, pagination_headers
from simulator.roles import RECEIVER, SENDER
from simulator.state import Identity, PartyKey, PlatformState, ReceivedResult

COMMAND_TYPES = frozenset(
    {"START_SESSION", "STOP_SESSION", "RESERVE_NOW", "CANCEL_RESERVATION", "UNLOCK_CONNECTOR"}
)
COMMANDS_WITH_LOCATION = frozenset({"START_SESSION", "RESERVE_NOW", "UNLOCK_CONNECTOR"})


@dataclass
class Call:
    sim: PlatformState
    request: Request
    identity: Identity
    module: str
    interface: str
    party: SimParty  # the hosted party addressed by OCPI-to-*
    requester: PartyKey  # from OCPI-from-*
    correlation_id: str
    body: Any
    query: dict[str, str]
    endpoint_url: str  # this module endpoint's URL as published, without trailing slash

    @property
    def method(self) -> str:
        return self.request.method


@dataclass
class Reply:
    data: Any = None
    status_code: int = 1000
    http_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    status_message: str | None = None


Handler = Callable[[Call, list[str]], Awaitable[Reply]]


def _not_allowed(call: Call) -> OcpiError:
    return OcpiError(
        405, 2000, f"{call.method} is not part of the {call.module} {call.interface} interface"
    )


def _unknown(what: str) -> OcpiError:
    return OcpiError(404, 2001, f"unknown {what}")


def _body_object(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise OcpiError(400, 2001, "request body must be a JSON object")
    return call.body


def _owner_path(parts: list[str], min_ids: int, max_ids: int) -> tuple[PartyKey, list[str]]:
    """Split `{country_code}/{party_id}/{id}[/...]`, the client-owned object URL."""
    if not min_ids + 2 <= len(parts) <= max_ids + 2:
        raise OcpiError(404, 2001, "expected /{country_code}/{party_id}/{object id...}")
    return (parts[0].upper(), parts[1].upper()), parts[2:]


def _check_identity(obj: dict[str, Any], owner: PartyKey, id_field: str, object_id: str) -> None:
    if str(obj.get(id_field, "")).upper() != object_id.upper():
        raise OcpiError(400, 2001, f"URL id {object_id!r} differs from body {id_field}")
    for key, expected in (("country_code", owner[0]), ("party_id", owner[1])):
        if key in obj and str(obj[key]).upper() != expected:
            raise OcpiError(400, 2001, f"URL {key} {expected!r} differs from the body")


def _require_last_updated(patch: dict[str, Any]) -> None:
    if "last_updated" not in patch:
        raise OcpiError(400, 2001, "PATCH needs last_updated")


def _stored(existed: bool) -> Reply:
    return Reply(http_status=200 if existed else 201)


# -- Receiver interfaces ------------------------------------------------------------------------


def _find_by(items: list[dict[str, Any]], id_field: str, wanted: str) -> dict[str, Any] | None:
    return next((i for i in items if str(i.get(id_field, "")).upper() == wanted.upper()), None)


def _replace_by(items: list[dict[str, Any]], id_field: str, new: dict[str, Any]) -> bool:
    for index, item in enumerate(items):
        if str(item.get(id_field, "")).upper() == str(new[id_field]).upper():
            items[index] = new
            return True
    items.append(new)
    return False


async def locations_receiver(call: Call, parts: list[str]) -> Reply:
    owner, ids = _owner_path(parts, 1, 3)
    sim = call.sim
    with sim.lock:
        store = sim.received_store(call.party.key, "locations")
        key = (*owner, ids[0].upper())
        location = store.get(key)
        evse = (
            _find_by(location.get("evses") or [], "uid", ids[1])
            if location and len(ids) > 1
            else None
        )
        connector = (
            _find_by(evse.get("connectors") or [], "id", ids[2]) if evse and len(ids) > 2 else None
        )
        target = [location, evse, connector][len(ids) - 1]
        if call.method == "GET":
            if target is None:
                raise _unknown("location/EVSE/connector")
            return Reply(data=target)
        if call.method == "PUT":
            obj = _body_object(call)
            id_field = ["id", "uid", "id"][len(ids) - 1]
            if len(ids) == 1:
                _check_identity(obj, owner, "id", ids[0])
                store[key] = obj
                return _stored(location is not None)
            _check_identity({id_field: obj.get(id_field)}, owner, id_field, ids[-1])
            parent = location if len(ids) == 2 else evse
            if parent is None:
                raise _unknown("parent location/EVSE; PUT it first")
            children = parent.setdefault("evses" if len(ids) == 2 else "connectors", [])
            existed = _replace_by(children, id_field, obj)
            _bump_parents(obj, location, evse if len(ids) == 3 else None)
            return _stored(existed)
        if call.method == "PATCH":
            patch = _body_object(call)
            _require_last_updated(patch)
            if target is None:
                raise _unknown("location/EVSE/connector")
            target.update(patch)
            _bump_parents(
                target, location if len(ids) > 1 else None, evse if len(ids) > 2 else None
            )
            return Reply()
    raise _not_allowed(call)


def _bump_parents(child: dict[str, Any], *parents: dict[str, Any] | None) -> None:
    # a changed EVSE/connector makes its Location show up in date-filtered GETs
    for parent in parents:
        if parent is not None and "last_updated" in child:
            parent["last_updated"] = child["last_updated"]


async def _simple_receiver(
    call: Call, parts: list[str], *, id_field: str, methods: frozenset[str]
) -> Reply:
    owner, ids = _owner_path(parts, 1, 1)
    if call.method not in methods:
        raise _not_allowed(call)
    key: tuple[str, ...] = (*owner, ids[0].upper())
    if call.module == "tokens":
        key = (*key, call.query.get("type", "RFID"))
    sim = call.sim
    with sim.lock:
        store = sim.received_store(call.party.key, call.module)
        current = store.get(key)
        if call.method == "GET":
            if current is None:
                raise _unknown(f"{call.module} object")
            return Reply(data=current)
        if call.method == "PUT":
            obj = _body_object(call)
            _check_identity(obj, owner, id_field, ids[0])
            store[key] = obj
            return _stored(current is not None)
        if call.method == "PATCH":
            patch = _body_object(call)
            _require_last_updated(patch)
            if current is None:
                raise _unknown(f"{call.module} object")
            periods = patch.pop("charging_periods", None) if call.module == "sessions" else None
            current.update(patch)
            if periods:
                # Sessions PATCH appends charging periods instead of replacing them
                current.setdefault("charging_periods", []).extend(periods)
            return Reply()
        # DELETE (tariffs only)
        if current is None:
            raise _unknown(f"{call.module} object")
        del store[key]
        return Reply()


async def sessions_receiver(call: Call, parts: list[str]) -> Reply:
    methods = frozenset({"GET", "PUT", "PATCH"})
    return await _simple_receiver(call, parts, id_field="id", methods=methods)


async def tariffs_receiver(call: Call, parts: list[str]) -> Reply:
    methods = frozenset({"GET", "PUT", "DELETE"})
    return await _simple_receiver(call, parts, id_field="id", methods=methods)


async def tokens_receiver(call: Call, parts: list[str]) -> Reply:
    methods = frozenset({"GET", "PUT", "PATCH"})
    return await _simple_receiver(call, parts, id_field="uid", methods=methods)


async def cdrs_receiver(call: Call, parts: list[str]) -> Reply:
    sim = call.sim
    if call.method == "POST" and not parts:
        cdr = _body_object(call)
        # a 2.1.1 CDR has no owner ids: it is the calling party's
        owner = call.requester if call.sim.config.is_211 else None
        try:
            key = (
                str(cdr["country_code"] if owner is None else owner[0]).upper(),
                str(cdr["party_id"] if owner is None else owner[1]).upper(),
                str(cdr["id"]),
            )
        except KeyError as exc:
            raise OcpiError(400, 2001, f"CDR misses {exc.args[0]}") from exc
        with sim.lock:
            store = sim.received_store(call.party.key, "cdrs")
            existed = key in store
            store[key] = cdr
        location = f"{call.endpoint_url}/{key[0]}/{key[1]}/{key[2]}"
        return Reply(http_status=200 if existed else 201, headers={"Location": location})
    if call.method == "GET" and len(parts) == 3:
        key = (parts[0].upper(), parts[1].upper(), parts[2])
        found = sim.received_objects(call.party.key, "cdrs").get(key)
        if found is None:
            raise _unknown("CDR")
        return Reply(data=found)
    raise _not_allowed(call)


async def hubclientinfo_receiver(
    sim: PlatformState, method: str, subject: PartyKey, body: Any
) -> Reply:
    if method == "GET":
        with sim.lock:
            found = sim.client_infos.get(subject)
        if found is None:
            raise _unknown("ClientInfo")
        return Reply(data=found)
    if not isinstance(body, dict):
        raise OcpiError(400, 2001, "request body must be a ClientInfo object")
    with sim.lock:
        existed = subject in sim.client_infos
        sim.client_infos[subject] = body
    return _stored(existed)


# -- Sender interfaces --------------------------------------------------------------------------


def _page(call: Call, objects: list[dict[str, Any]]) -> Reply:
    page = paginate(objects, PageRequest.from_query(call.query), call.sim.config.page_limit)
    headers = pagination_headers(call.endpoint_url, call.query, page)
    return Reply(data=page.items, headers=headers)


async def _list_sender(call: Call, parts: list[str]) -> Reply:
    if call.method == "GET" and not parts:
        return _page(call, call.sim.owned_objects(call.party.key, call.module))
    raise _not_allowed(call)


async def locations_sender(call: Call, parts: list[str]) -> Reply:
    if call.method != "GET" or len(parts) > 3:
        raise _not_allowed(call)
    if not parts:
        return _page(call, call.sim.owned_objects(call.party.key, "locations"))
    found: dict[str, Any] | None = call.sim.owned_object(
        call.party.key, "locations", parts[0].upper()
    )
    if found and len(parts) > 1:
        found = _find_by(found.get("evses") or [], "uid", parts[1])
    if found and len(parts) > 2:
        found = _find_by(found.get("connectors") or [], "id", parts[2])
    if found is None:
        raise _unknown("location/EVSE/connector")
    return Reply(data=found)


async def sessions_sender(call: Call, parts: list[str]) -> Reply:
    if call.method == "GET" and not parts:
        if "date_from" not in call.query:
            raise OcpiError(400, 2001, "Sessions GET needs date_from")
        return await _list_sender(call, parts)
    if call.method == "PUT" and len(parts) == 2 and parts[1] == "charging_preferences":
        if call.sim.owned_object(call.party.key, "sessions", parts[0].upper()) is None:
            raise _unknown("session")
        return Reply(data="ACCEPTED")
    raise _not_allowed(call)


async def tokens_sender(call: Call, parts: list[str]) -> Reply:
    if call.method == "GET" and not parts:
        return await _list_sender(call, parts)
    if call.method == "POST" and len(parts) == 2 and parts[1] == "authorize":
        key = (parts[0].upper(), call.query.get("type", "RFID"))
        token = call.sim.owned_object(call.party.key, "tokens", key)
        if token is None:
            raise OcpiError(404, 2004, f"unknown token {parts[0]}")
        info: dict[str, Any] = {"allowed": "ALLOWED" if token.get("valid", True) else "BLOCKED"}
        if not call.sim.config.is_211:  # 2.1.1 AuthorizationInfo has neither
            info["token"] = token
            info["authorization_reference"] = uuid.uuid4().hex[:36]
        if isinstance(call.body, dict) and call.body.get("location_id"):
            info["location"] = call.body
        return Reply(data=info)
    raise _not_allowed(call)


async def results_sender(call: Call, parts: list[str]) -> Reply:
    """Our response URLs: `.../{commands|chargingprofiles}/results/{id}` take async results."""
    if call.method == "POST" and len(parts) == 2 and parts[0] == "results":
        call.sim.add_result(
            ReceivedResult(
                id=parts[1],
                module=call.module,
                party=call.party.key,
                body=call.body,
                headers={k: v for k, v in call.request.headers.items() if k != "authorization"},
                time=ocpi_now(),
            )
        )
        return Reply()
    if call.module == "chargingprofiles" and call.method == "PUT" and len(parts) == 1:
        # ActiveChargingProfile update pushed by the CPO
        with call.sim.lock:
            store = call.sim.received_store(call.party.key, "chargingprofiles")
            existed = (*call.requester, parts[0]) in store
            store[(*call.requester, parts[0])] = _body_object(call)
        return _stored(existed)
    raise _not_allowed(call)


# -- Commands and charging profiles (CPO Receiver) -------------------------------------------------


def _response_url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise OcpiError(400, 2001, "response_url missing or not a URL")
    return value


def schedule_callback(call: Call, url: str, result: dict[str, Any]) -> None:
    """POST the async result to `url` shortly after we answered, as the addressed CPO."""
    sim = call.sim
    version = sim.config.ocpi_version
    headers = {
        "Authorization": authorization_header(sim.outbound_token(call.identity), version),
        "Content-Type": "application/json",
    }
    if version != "2.1.1":  # 2.1.1 has no request ids and no routing headers
        headers |= {
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": call.correlation_id,
            "OCPI-from-country-code": call.party.country_code,
            "OCPI-from-party-id": call.party.party_id,
            "OCPI-to-country-code": call.requester[0],
            "OCPI-to-party-id": call.requester[1],
        }

    async def deliver() -> None:
        await asyncio.sleep(sim.config.callback_delay_ms / 1000)
        outcome: dict[str, Any] = {"url": url, "body": result, "headers": headers}
        try:
            async with async_client(10.0) as client:
                response = await client.post(url, json=result, headers=headers)
            outcome["http_status"] = response.status_code
            outcome["response"] = response.text[:2000]
        except httpx.HTTPError as exc:
            outcome["error"] = repr(exc)
        with sim.lock:
            sim.sent_callbacks.append(outcome)

    sim.spawn(deliver())


async def commands_receiver(call: Call, parts: list[str]) -> Reply:
    if call.method != "POST" or len(parts) != 1:
        raise _not_allowed(call)
    command = parts[0]
    if command not in COMMAND_TYPES:
        raise OcpiError(404, 2001, f"unknown command {command!r}")
    body = _body_object(call)
    url = _response_url(body.get("response_url"))
    owner = call.party.key
    if command in COMMANDS_WITH_LOCATION:
        location_id = body.get("location_id")
        if not location_id:
            raise OcpiError(400, 2001, f"{command} needs location_id")
        # only a CPO with seeded locations knows which ones are unknown
        known = call.sim.has_owned(owner, "locations")
        if known and call.sim.owned_object(owner, "locations", str(location_id).upper()) is None:
            return Reply(
                data=_command_answer(call, "REJECTED"),
                status_code=2003,
                status_message=f"unknown location {location_id}",
            )
    if command == "STOP_SESSION" and call.sim.has_owned(owner, "sessions"):
        session_id = str(body.get("session_id", "")).upper()
        if call.sim.owned_object(owner, "sessions", session_id) is None:
            return Reply(data=_command_answer(call, "UNKNOWN_SESSION"))
    schedule_callback(call, url, {"result": "ACCEPTED"})
    return Reply(data=_command_answer(call, "ACCEPTED"))


def _command_answer(call: Call, result: str) -> dict[str, Any]:
    if call.sim.config.is_211:
        return {"result": result}  # 2.1.1 CommandResponse: no timeout
    return {"result": result, "timeout": call.sim.config.command_timeout_s}


DEFAULT_PROFILE = {
    "charging_rate_unit": "W",
    "charging_profile_period": [{"start_period": 0, "limit": 11000.0}],
}


async def chargingprofiles_receiver(call: Call, parts: list[str]) -> Reply:
    if len(parts) != 1 or call.method not in ("GET", "PUT", "DELETE"):
        raise _not_allowed(call)
    session_id = parts[0]
    sim = call.sim
    owner = call.party.key
    timeout = sim.config.command_timeout_s
    if call.method == "PUT":
        body = _body_object(call)
        url = _response_url(body.get("response_url"))
        if not isinstance(body.get("charging_profile"), dict):
            raise OcpiError(400, 2001, "SetChargingProfile needs charging_profile")
    else:
        url = _response_url(call.query.get("response_url"))
    if (
        sim.has_owned(owner, "sessions")
        and sim.owned_object(owner, "sessions", session_id.upper()) is None
    ):
        return Reply(data={"result": "UNKNOWN_SESSION", "timeout": timeout})
    key = (*owner, session_id)
    with sim.lock:
        profiles = sim.received_store(owner, "chargingprofiles")
        if call.method == "PUT":
            profiles[key] = call.body["charging_profile"]
            result: dict[str, Any] = {"result": "ACCEPTED"}
        elif call.method == "DELETE":
            profiles.pop(key, None)
            result = {"result": "ACCEPTED"}
        else:
            result = {
                "result": "ACCEPTED",
                "profile": {
                    "start_date_time": ocpi_now(),
                    "charging_profile": profiles.get(key, DEFAULT_PROFILE),
                },
            }
    schedule_callback(call, url, result)
    return Reply(data={"result": "ACCEPTED", "timeout": timeout})


HANDLERS: dict[tuple[str, str], Handler] = {
    ("locations", RECEIVER): locations_receiver,
    ("sessions", RECEIVER): sessions_receiver,
    ("cdrs", RECEIVER): cdrs_receiver,
    ("tariffs", RECEIVER): tariffs_receiver,
    ("tokens", RECEIVER): tokens_receiver,
    ("commands", RECEIVER): commands_receiver,
    ("chargingprofiles", RECEIVER): chargingprofiles_receiver,
    ("locations", SENDER): locations_sender,
    ("sessions", SENDER): sessions_sender,
    ("cdrs", SENDER): _list_sender,
    ("tariffs", SENDER): _list_sender,
    ("tokens", SENDER): tokens_sender,
    ("commands", SENDER): results_sender,
    ("chargingprofiles", SENDER): results_sender,
}
