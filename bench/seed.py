"""Connect benchmark platforms straight through the registry (no credentials handshake), before
the node starts, so the node loads them into its routing table at start-up."""

from __future__ import annotations

import base64

from application.endpoints import ROLE_INTERFACES
from application.tokens import hash_token, new_token
from domain.values import OCPI_VERSION, Role
from infrastructure.store import Store


def endpoints(base_url: str, role: Role) -> list[dict[str, str]]:
    """Endpoints `{base_url}/ocpi/2.2.1/{module}/{interface}` for what `role` implements."""
    return [
        {
            "identifier": str(module),
            "role": str(interface),
            "url": f"{base_url}/ocpi/{OCPI_VERSION}/{module}/{str(interface).lower()}",
        }
        for module, interface in ROLE_INTERFACES[role]
    ]


def connect(store: Store, base_url: str, role: Role, party_ids: list[str], label: str) -> str:
    """Register one platform hosting `party_ids` (country NL); returns its Authorization value."""
    registry = store.registry
    connection_id, _token_a, _ = registry.invite(label)
    token = new_token()
    roles = [
        {
            "role": str(role),
            "country_code": "NL",
            "party_id": party_id,
            "business_details": {"name": f"{role} {party_id}"},
        }
        for party_id in party_ids
    ]
    refused, _ = registry.register_connection(
        connection_id,
        OCPI_VERSION,
        f"{base_url}/ocpi/versions",
        endpoints(base_url, role),
        roles,
        hash_token(token),
        new_token(),
    )
    if refused:
        raise RuntimeError(f"refused roles: {refused}")
    return authorization(token)


def authorization(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()
