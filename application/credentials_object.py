"""The OCPI 2.2.1 Credentials object (digest §4.1): checked field by field, whichever side sent it.

One validator serves both directions (a peer's POST/PUT body and a peer's answer to ours), so a
message names the field that is wrong the same way in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidPartyError
from domain.values import PartyKey, Role


class InvalidCredentialsError(ValueError):
    """The object is not a usable Credentials object; the message says which field and why."""


@dataclass(frozen=True)
class PeerCredentials:
    token: str
    url: str
    roles: list[dict[str, Any]]  # normalised CredentialsRole dicts


def _is_token_text(text: str) -> bool:
    return 0 < len(text) <= 64 and all("!" <= char <= "~" for char in text)


def parse_credentials(data: Any) -> PeerCredentials:
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
        parsed.append(_parse_role(index, role, seen))
    return PeerCredentials(token=token, url=url, roles=parsed)


def _parse_role(index: int, role: Any, seen: set[PartyKey]) -> dict[str, Any]:
    where = f"roles[{index}]"
    if not isinstance(role, dict):
        raise InvalidCredentialsError(f"{where}: must be a CredentialsRole object")
    for field in ("role", "party_id", "country_code"):
        if not isinstance(role.get(field), str):
            raise InvalidCredentialsError(f"{where}.{field}: required string")
    if role["role"] not in Role.__members__.values():
        allowed = ", ".join(r.value for r in Role)
        raise InvalidCredentialsError(f"{where}.role: must be one of {allowed}")
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


def parse_endpoints(data: Any) -> tuple[str, list[dict[str, str]]]:
    """A version details object -> (version, endpoints). Malformed entries are a hard error."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise InvalidCredentialsError("version details must be an object with endpoints")
    endpoints = []
    for entry in data["endpoints"]:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(f), str) for f in ("identifier", "url")
        ):
            raise InvalidCredentialsError("every endpoint needs identifier and url strings")
        role = entry.get("role") if isinstance(entry.get("role"), str) else ""
        endpoints.append({"identifier": entry["identifier"], "role": role, "url": entry["url"]})
    return str(data.get("version", "")), endpoints
