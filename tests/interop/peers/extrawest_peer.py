"""An OCPI 2.2.1 platform built on extrawest-ocpi (py_ocpi), run in the interop venv.

    python extrawest_peer.py --role CPO|EMSP --port N --country NL --party EXC

What a platform built on the library supplies is here and nothing more: in-memory storage behind
the library's Crud hooks, an Authenticator over the tokens that storage holds, and the settings.
Everything on the wire (registration answers, module endpoints, pushes through the library's own
/push/{version} endpoint, command results) is the library's code.

Two things are added for the test and change nothing the library sends: an `/interop/*` operator
API (hand out a token A, seed objects, read back what was received), and a log of every HTTP
request the library sends (an httpx event hook) and receives (a middleware), served at
/interop/wire so the test can assert on the library's real wire behaviour.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from typing import Any

# py_ocpi reads its settings from the environment once, when first imported.
_args = argparse.ArgumentParser()
_args.add_argument("--role", choices=["CPO", "EMSP"], required=True)
_args.add_argument("--port", type=int, required=True)
_args.add_argument("--country", required=True)
_args.add_argument("--party", required=True)
# The library's TRAILING_SLASH setting, off: it then advertises slash-less endpoint URLs while its
# routes keep the slash, so it answers its own advertised URLs with a 307 (README, item 7).
_args.add_argument("--no-trailing-slash", action="store_true")
# The library serves 2.1.1 too (its v_2_1_1 modules): one version per platform, as real ones do.
_args.add_argument("--ocpi-version", choices=["2.1.1", "2.2.1"], default="2.2.1")
ARGS = _args.parse_args()
os.environ.update(
    {
        "PROTOCOL": "http",
        "OCPI_HOST": f"127.0.0.1:{ARGS.port}",
        "COUNTRY_CODE": ARGS.country,
        "PARTY_ID": ARGS.party,
        "ENVIRONMENT": "production",
        "COMMAND_AWAIT_TIME": "1",
        "TRAILING_SLASH": "false" if ARGS.no_trailing_slash else "true",
    }
)

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import Request  # noqa: E402
from py_ocpi.core.authentication.authenticator import Authenticator  # noqa: E402
from py_ocpi.core.crud import Crud  # noqa: E402
from py_ocpi.core.endpoints import ENDPOINTS  # noqa: E402
from py_ocpi.core.endpoints.v_2_2_1.utils import cpo_generator  # noqa: E402
from py_ocpi.core.enums import Action, ModuleID, RoleEnum  # noqa: E402
from py_ocpi.main import get_application  # noqa: E402
from py_ocpi.modules.versions.enums import VersionNumber  # noqa: E402
from py_ocpi.modules.versions.v_2_2_1.enums import InterfaceRole  # noqa: E402
from starlette.datastructures import URL  # noqa: E402

# The operator's token for the library's push endpoint (loopback only, test peer).
OPERATOR_TOKEN = "interop-operator"

WIRE: list[dict[str, Any]] = []


async def _log_request(request: httpx.Request) -> None:
    WIRE.append(
        {
            "direction": "sent",
            "method": request.method,
            "url": str(request.url),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": request.content.decode("utf-8", "replace") if request.content else "",
        }
    )


async def _log_response(response: httpx.Response) -> None:
    for entry in reversed(WIRE):
        if entry["direction"] == "sent" and entry["url"] == str(response.request.url):
            entry["status"] = response.status_code
            entry["location"] = response.headers.get("location")
            break


_LibraryClient = httpx.AsyncClient


class _ObservedClient(_LibraryClient):
    """httpx.AsyncClient as the library builds it (same defaults), with a wire log added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        hooks = kwargs.pop("event_hooks", None) or {}
        hooks.setdefault("request", []).append(_log_request)
        hooks.setdefault("response", []).append(_log_response)
        super().__init__(*args, event_hooks=hooks, **kwargs)


httpx.AsyncClient = _ObservedClient  # type: ignore[misc]


class Storage:
    def __init__(self) -> None:
        self.tokens_a: set[str] = set()
        self.tokens_c: set[str] = set()
        self.hub: dict[str, Any] = {}  # the hub's credentials and endpoints, once registered
        # Keyed by lower-cased id: the library lower-cases CiString path parameters
        # (CI_STRING_LOWERCASE_PREFERENCE), and OCPI ids are case-insensitive anyway.
        self.objects: dict[str, dict[str, dict]] = {}
        self.received: list[dict[str, Any]] = []
        self.command_results: dict[str, dict] = {}

    def own_credentials(self, token: str) -> dict[str, Any]:
        if ARGS.ocpi_version == "2.1.1":  # one party, no roles
            return {
                "token": token,
                "url": f"http://127.0.0.1:{ARGS.port}/ocpi/versions",
                "business_details": {"name": f"extrawest-ocpi {ARGS.role}"},
                "party_id": ARGS.party,
                "country_code": ARGS.country,
            }
        return {
            "token": token,
            "url": f"http://127.0.0.1:{ARGS.port}/ocpi/versions",
            "roles": [
                {
                    "role": ARGS.role,
                    "business_details": {"name": f"extrawest-ocpi {ARGS.role}"},
                    "party_id": ARGS.party,
                    "country_code": ARGS.country,
                }
            ],
        }


STORE = Storage()


def _name(module: Any) -> str:
    # ModuleID is a str Enum: str() of it is "ModuleID.locations" on Python 3.11.
    return str(getattr(module, "value", module))


class MemoryCrud(Crud):
    @classmethod
    async def get(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any):
        if module == ModuleID.credentials_and_registration:
            return STORE.own_credentials(id) if id in STORE.tokens_c else None
        if module == ModuleID.commands and role == RoleEnum.cpo:
            # The charge point answers at once: the library then posts the result.
            return {"result": "ACCEPTED"}
        return STORE.objects.get(_name(module), {}).get(str(id).lower())

    @classmethod
    async def list(cls, module: ModuleID, role: RoleEnum, filters: dict, *args: Any, **kwargs: Any):
        found = list(STORE.objects.get(_name(module), {}).values())
        offset, limit = filters.get("offset", 0), filters.get("limit", 50)
        page = found[offset : offset + limit]
        return page, len(found), offset + limit >= len(found)

    @classmethod
    async def create(cls, module: ModuleID, role: RoleEnum, data: dict, *args: Any, **kwargs: Any):
        if module == ModuleID.credentials_and_registration:
            return cls._register(data, kwargs.get("auth_token") or (args[0] if args else None))
        return cls._store(module, data, kwargs)

    @classmethod
    async def update(
        cls, module: ModuleID, role: RoleEnum, data: dict, id: Any, *args: Any, **kwargs: Any
    ):
        if module == ModuleID.credentials_and_registration:
            return cls._register(data, kwargs.get("auth_token"))
        if module == ModuleID.commands:
            STORE.command_results[str(id)] = data
            STORE.received.append({"module": "commands", "id": str(id), "data": data})
            return data
        return cls._store(module, {**data, "id": data.get("id") or id}, kwargs)

    @classmethod
    async def delete(cls, module: ModuleID, role: RoleEnum, id: Any, *args: Any, **kwargs: Any):
        if module == ModuleID.credentials_and_registration:
            STORE.tokens_c.discard(id)
            return
        STORE.objects.get(_name(module), {}).pop(str(id).lower(), None)

    @classmethod
    async def do(cls, module: ModuleID, role, action: Action, *args: Any, data=None, **kwargs: Any):
        if action == Action.send_command:
            return {"result": "ACCEPTED", "timeout": 30}
        if action == Action.get_client_token:
            return STORE.hub["credentials"]["token"]
        if action == Action.authorize_token:
            return {"allowed": "ALLOWED", "token": {}}
        return None

    @staticmethod
    def _register(data: dict, token_used: str | None) -> dict:
        STORE.hub = data
        STORE.tokens_a.discard(token_used or "")
        STORE.tokens_c.discard(token_used or "")
        token_c = secrets.token_urlsafe(16)
        STORE.tokens_c.add(token_c)
        return STORE.own_credentials(token_c)

    @staticmethod
    def _store(module: ModuleID, data: dict, kwargs: dict) -> dict:
        key = str(data.get("id") or data.get("uid")).lower()
        STORE.objects.setdefault(_name(module), {})[key] = data
        STORE.received.append(
            {
                "module": _name(module),
                "id": key,
                "country_code": kwargs.get("country_code"),
                "party_id": kwargs.get("party_id"),
                "data": data,
            }
        )
        return data


class MemoryAuthenticator(Authenticator):
    @classmethod
    async def get_valid_token_c(cls) -> list[str]:
        return [*STORE.tokens_c, OPERATOR_TOKEN]

    @classmethod
    async def get_valid_token_a(cls) -> list[str]:
        return list(STORE.tokens_a)


MODULES = [
    ModuleID.credentials_and_registration,
    ModuleID.locations,
    ModuleID.sessions,
    ModuleID.cdrs,
    ModuleID.tokens,
    ModuleID.tariffs,
    ModuleID.commands,
]

# The library serves the CPO's commands Receiver (POST .../cpo/2.2.1/commands/{command}) but leaves
# it out of its version details, so no hub could route a command to it. A platform on the library
# adds it with the library's own endpoint generator (README, "What the library sends", 8).
ENDPOINTS[VersionNumber.v_2_2_1][RoleEnum.cpo][ModuleID.commands] = cpo_generator.generate_endpoint(
    ModuleID.commands, InterfaceRole.receiver
)

VERSION = VersionNumber(ARGS.ocpi_version)
app = get_application(
    version_numbers=[VERSION],
    roles=[RoleEnum.cpo if ARGS.role == "CPO" else RoleEnum.emsp],
    crud=MemoryCrud,
    modules=MODULES,
    authenticator=MemoryAuthenticator,
    http_push=True,
)


class WireLog:
    """Logs each request the library receives as it arrived (plain ASGI: reading the body in a
    BaseHTTPMiddleware would starve the library's own handlers on this Starlette version)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/interop/"):
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "direction": "received",
            "method": scope["method"],
            "url": str(URL(scope=scope)),
            "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
            "body": "",
        }
        WIRE.append(entry)

        async def logged_receive() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                entry["body"] += message.get("body", b"").decode("utf-8", "replace")
            return message

        async def logged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
                entry["location"] = headers.get("location")
            await send(message)

        await self.app(scope, logged_receive, logged_send)


app.add_middleware(WireLog)


@app.post("/interop/token-a")
async def _token_a() -> dict:
    token = secrets.token_urlsafe(16)
    STORE.tokens_a.add(token)
    return {"token_a": token, "versions_url": f"http://127.0.0.1:{ARGS.port}/ocpi/versions"}


@app.post("/interop/register")
async def _register_by_invitation(invitation: dict) -> dict:
    """Registers with a hub's invitation (its versions URL and token A).

    The library has no client for this: it only answers POST /credentials. This is the other side
    written the way the library's own handler talks (base64 `Token` header, no request ids, GET
    versions, pick 2.2.1, GET details), through the library's httpx; the hub's calls back during
    the POST (GET versions and details with the token given here) meet the library's code.
    """
    token_a = base64.b64encode(invitation["token_a"].encode()).decode()
    headers = {"authorization": f"Token {token_a}"}
    token_for_hub = secrets.token_urlsafe(16)
    STORE.tokens_c.add(token_for_hub)
    async with httpx.AsyncClient() as client:
        versions = (await client.get(invitation["versions_url"], headers=headers)).json()["data"]
        (version_url,) = [v["url"] for v in versions if v["version"] == "2.2.1"]
        details = (await client.get(version_url, headers=headers)).json()["data"]
        (credentials_url,) = [
            e["url"] for e in details["endpoints"] if e["identifier"] == "credentials"
        ]
        answer = await client.post(
            credentials_url, json=STORE.own_credentials(token_for_hub), headers=headers
        )
    body = answer.json()
    if body.get("status_code") == 1000:
        STORE.hub = {"credentials": body["data"], "endpoints": details}
    return {"http_status": answer.status_code, "body": body}


@app.put("/interop/objects/{module}/{object_id}")
async def _seed(module: str, object_id: str, request: Request) -> dict:
    STORE.objects.setdefault(module, {})[object_id.lower()] = await request.json()
    return {"stored": object_id}


@app.get("/interop/state")
async def _state() -> dict:
    return {
        "hub": STORE.hub,
        "received": STORE.received,
        "command_results": STORE.command_results,
        "operator_authorization": "Token " + base64.b64encode(OPERATOR_TOKEN.encode()).decode(),
    }


@app.get("/interop/wire")
async def _wire() -> list[dict[str, Any]]:
    return WIRE


@app.delete("/interop/wire")
async def _clear_wire() -> dict:
    WIRE.clear()
    return {}


if __name__ == "__main__":
    sys.stdout.flush()
    uvicorn.run(app, host="127.0.0.1", port=ARGS.port, log_level="warning")
