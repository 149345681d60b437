"""Connect a fake platform to a node's store directly through the registry (no handshake)."""

from __future__ import annotations

from application.tokens import hash_token, new_token
from domain.values import OCPI_VERSION, Role
from infrastructure.database_url import DatabaseUrl
from infrastructure.store import open_store
from tests.support.fake_platform import FakePlatform


def register_platform(
    url: DatabaseUrl, platform: FakePlatform, role: Role, party_id: str
) -> tuple[str, str]:
    """Returns (connection id, the token the platform calls the node with)."""
    store = open_store(url)
    try:
        connection_id, _token_a, _ = store.registry.invite(platform.name)
        token = new_token()
        store.registry.register_connection(
            connection_id,
            OCPI_VERSION,
            f"{platform.url}/ocpi/versions",
            platform.endpoints_for(role),
            [{"role": str(role), "country_code": "NL", "party_id": party_id,
              "business_details": {"name": party_id}}],
            hash_token(token),
            f"outbound-{party_id}",
        )  # fmt: skip
    finally:
        store.close()
    return str(connection_id), token
