"""Admin API edges: authentication, validation, unknown ids, state conflicts."""

import httpx

from infrastructure.database_url import DatabaseUrl
from tests.support.nodes import running_node

# Long and unlike any id: a short token ("abc") turned up inside random UUIDs in the message.
TOKEN_A = "token-a-that-must-never-be-echoed"


def test_the_admin_api_refuses_bad_requests_clearly(database_url: DatabaseUrl) -> None:
    with running_node(database_url) as hub:
        assert httpx.get(f"{hub.url}/admin/connections").status_code == 401
        wrong = httpx.get(f"{hub.url}/admin/parties", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        broken = hub.admin("POST", "/invitations", content=b"{")
        assert (broken.status_code, broken.json()["status_code"]) == (400, 2001)
        missing = hub.admin("POST", "/invitations", json={})
        assert missing.status_code == 422 and "label" in missing.json()["status_message"]
        bad_url = hub.admin("POST", "/connections", json={"versions_url": "nope", "token_a": "x"})
        assert bad_url.status_code == 422 and "versions_url" in bad_url.json()["status_message"]
        assert hub.admin("GET", "/connections/not-a-uuid").status_code == 404
        assert (
            hub.admin("GET", "/connections/00000000-0000-0000-0000-000000000000").status_code == 404
        )
        created = hub.admin("POST", "/invitations", json={"label": "later"}).json()
        conflict = hub.admin("POST", f"/connections/{created['id']}/suspend")
        assert conflict.status_code == 409 and "not registered" in conflict.json()["status_message"]
        down = hub.admin(
            "POST",
            "/connections",
            json={"versions_url": "http://127.0.0.1:9/ocpi/versions", "token_a": TOKEN_A},
        )
        assert down.status_code == 502 and down.json()["status_code"] == 3001
        assert TOKEN_A not in down.json()["status_message"]
