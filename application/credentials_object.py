"""The Credentials object (digest §4.1) in OCPI 2.1.1, 2.2.1 and 2.3.0: checked field by field,
whichever side sent it, and built in the shape of the version a connection speaks.

One validator serves both directions (a peer's POST/PUT body and a peer's answer to ours), so a
message names the field that is wrong the same way in both. Internally a peer's credentials are
always the 2.2.1 form (a list of CredentialsRole); the version shapes are translated at the edge
(domain/translation/credentials.py, versions digest §5.8 and §10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidPartyError, UntranslatableError
from domain.translation.bridge import ObjectKind, TranslationContext, translate
from domain.values import InterfaceRole, ModuleId, PartyKey, Role
from domain.versions import V2_1_1, V2_2_1, V2_3_0, party_interface_211, version_has_role


class InvalidCredentialsError(ValueError):
    """The object is not a usable Credentials object; the message says which field and why."""


@dataclass(frozen=True)
class PeerCredentials:
    token: str
    url: str
    roles: list[dict[str, Any]]  # normalised CredentialsRole dicts
    hub_party_id: str | None = None  # 2.3.0: the peer is a hub, named CC + PID


def _is_token_text(text: str) -> bool:
    return 0 < len(text) <= 64 and all("!" <= char <= "~" for char in text)


def parse_credentials(data: Any, version: str = V2_2_1) -> PeerCredentials:
    """A Credentials object of 2.2.1's shape; its roles must exist in OCPI `version`."""
    if not isinstance(data, dict):
        raise InvalidCredentialsError("credentials must be a JSON object")
    token = data.get("token")
    if not isinstance(token, str) or not _is_token_text(token):
        raise InvalidCredentialsError(
            "token: required, 1 to 64 printable ASCII characters without spaces"
        )
    url = data.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 255:
        raise InvalidCredentialsError("url: required, the http(s) URL of your versions endpoint")
    roles = data.get("roles")
    if not isinstance(roles, list) or not roles:
        raise InvalidCredentialsError("roles: required, a non-empty list of CredentialsRole")
    parsed: list[dict[str, Any]] = []
    seen: set[PartyKey] = set()
    for index, role in enumerate(roles):
        parsed.append(_parse_role(f"roles[{index}]", role, seen, version))
    return PeerCredentials(token=token, url=url, roles=parsed)


def parse_credentials_in(version: str, data: Any, role: Role | None = None) -> PeerCredentials:
    """A peer's credentials in the shape of OCPI `version`, as the 2.2.1 form.

    2.1.1 carries one party and no role: `role` is the one its invitation states (without one
    the caller cannot register a 2.1.1 peer). 2.3.0 names a hub in `hub_party_id` and has no
    HUB role.
    """
    if version == V2_1_1:
        return _parse_credentials_211(data, role)
    if version == V2_3_0:
        return _parse_credentials_230(data)
    return parse_credentials(data)


def _parse_credentials_211(data: Any, role: Role | None) -> PeerCredentials:
    if not isinstance(data, dict):
        raise InvalidCredentialsError("credentials must be a JSON object")
    if role is None:
        raise InvalidCredentialsError("the party's role is unknown (2.1.1 credentials lack it)")
    # The party members are checked under their 2.1.1 names before the shape is translated.
    _parse_role("credentials", {**data, "role": str(role)}, set())
    try:
        translated = translate(
            ObjectKind.CREDENTIALS, data, V2_1_1, V2_2_1, TranslationContext(role=role)
        )
    except UntranslatableError as error:
        raise InvalidCredentialsError(str(error)) from None
    return parse_credentials(translated.body)


def _parse_credentials_230(data: Any) -> PeerCredentials:
    if not isinstance(data, dict):
        raise InvalidCredentialsError("credentials must be a JSON object")
    hub_party_id = data.get("hub_party_id")
    if hub_party_id is not None and not (
        isinstance(hub_party_id, str) and len(hub_party_id) == 5 and hub_party_id.isalnum()
    ):
        raise InvalidCredentialsError(
            "hub_party_id: the hub's country code and party id, 5 letters and digits"
        )
    parsed = parse_credentials({k: v for k, v in data.items() if k != "hub_party_id"}, V2_3_0)
    for index, entry in enumerate(parsed.roles):
        if entry["role"] == Role.HUB:
            raise InvalidCredentialsError(
                f"roles[{index}].role: OCPI 2.3.0 has no HUB role (a hub sets hub_party_id)"
            )
    upper = hub_party_id.upper() if isinstance(hub_party_id, str) else None
    return PeerCredentials(parsed.token, parsed.url, parsed.roles, hub_party_id=upper)


def credentials_in(
    version: str, token: str, url: str, roles: list[dict[str, Any]], reachable: list[dict[str, Any]]
) -> dict[str, Any]:
    """Our credentials in the shape of OCPI `version`.

    `roles` are our own 2.2.1 CredentialsRoles (a hub: its HUB role). 2.1.1: one party, the
    first of ours (a node hosting several speaks 2.1.1 for the first only). 2.3.0: a hub names
    itself in `hub_party_id` and lists the parties reachable through it (`reachable`), or, with
    none reachable yet, itself as OTHER, since the list may not be empty.
    """
    if version == V2_1_1:
        ours = {"token": token, "url": url, "roles": roles[:1]}
        translated = translate(ObjectKind.CREDENTIALS, ours, V2_2_1, V2_1_1)
        return dict(translated.body)
    if version == V2_3_0:
        hubs = [r for r in roles if r["role"] == Role.HUB]
        if not hubs:
            return {"token": token, "url": url, "roles": roles}
        hub = hubs[0]
        listed = reachable or [{**hub, "role": str(Role.OTHER)}]
        return {
            "token": token,
            "url": url,
            "hub_party_id": f"{hub['country_code']}{hub['party_id']}".upper(),
            "roles": listed,
        }
    return {"token": token, "url": url, "roles": roles}


def _parse_role(
    where: str, role: Any, seen: set[PartyKey], version: str = V2_2_1
) -> dict[str, Any]:
    if not isinstance(role, dict):
        raise InvalidCredentialsError(f"{where}: must be a CredentialsRole object")
    for field in ("role", "party_id", "country_code"):
        if not isinstance(role.get(field), str):
            raise InvalidCredentialsError(f"{where}.{field}: required string")
    if role["role"] not in Role.__members__.values():
        allowed = ", ".join(r.value for r in Role)
        raise InvalidCredentialsError(f"{where}.role: must be one of {allowed}")
    if not version_has_role(version, Role(role["role"])):
        # Refused, not registered under a role the peer's version cannot name (digest §11).
        raise InvalidCredentialsError(
            f"{where}.role: OCPI {version} has no {role['role']} role (new in OCPI 2.3.0:"
            " register at the hub's 2.3.0 credentials endpoint)"
        )
    try:
        key = PartyKey(role["country_code"], role["party_id"], role["role"])
    except InvalidPartyError as error:
        raise InvalidCredentialsError(f"{where}: {error}") from None
    if key in seen:
        raise InvalidCredentialsError(f"{where}: {key} is listed twice")
    seen.add(key)
    details = role.get("business_details")
    if not isinstance(details, dict) or not isinstance(details.get("name"), str):
        raise InvalidCredentialsError(f"{where}.business_details.name: required string")
    return {
        "role": str(key.role),
        "party_id": key.party_id,
        "country_code": key.country_code,
        "business_details": details,
    }


def parse_endpoints(
    data: Any, version: str = V2_2_1, role_211: Role | None = None
) -> tuple[str, list[dict[str, str]]]:
    """A version details object -> (version, endpoints). Malformed entries are a hard error.

    2.1.1 endpoints carry no interface role: a 2.1.1 party of `role_211` serves the one its role
    implies (domain/versions.py), so the connection's endpoints read like those of 2.2.1.
    """
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise InvalidCredentialsError("version details must be an object with endpoints")
    endpoints = []
    for entry in data["endpoints"]:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(f), str) for f in ("identifier", "url")
        ):
            raise InvalidCredentialsError("every endpoint needs identifier and url strings")
        role = entry.get("role") if isinstance(entry.get("role"), str) else ""
        if version == V2_1_1:
            role = _implied_211(entry["identifier"], role_211)
        endpoints.append({"identifier": entry["identifier"], "role": role, "url": entry["url"]})
    return str(data.get("version", "")), endpoints


def _implied_211(module: str, role: Role | None) -> str:
    if module == ModuleId.CREDENTIALS:
        return str(InterfaceRole.SENDER)
    implied = None if role is None else party_interface_211(role, module)
    return "" if implied is None else str(implied)
