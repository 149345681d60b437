"""The console over HTTP on both stores: nothing without a session, the session cookie's
attributes, CSRF on every change, the same evidence as the admin API, the search's total."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.evidence import verify_bundle
from infrastructure.database_url import DatabaseUrl
from tests.audit_support import Leg, node_settings, record, routed

ADMIN = "admin-token-for-console-tests"
T0 = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)
PAGES = [
    "/console",
    "/console/traffic",
    "/console/messages",
    "/console/network",
    "/console/explain",
    "/console/evidence?correlation_id=dispute",
    "/console/connections/7c4f8a86-8f57-4a49-9d8c-7f0f8c6c1f5e",
]


@pytest.fixture
def client(database_url: DatabaseUrl) -> Iterator[TestClient]:
    settings = node_settings(database_url, ADMIN)
    messages = [
        routed(f"r{n}", when=T0 + timedelta(minutes=n), correlation_id="dispute")
        for n in range(3)
    ]
    messages.append(routed("xss", when=T0, body=b'{"id":"<script>alert(1)</script>"}'))
    messages.append(
        routed("r9", when=T0 + timedelta(minutes=9), correlation_id="other",
               legs=[Leg("DE*EMS", "conn-ems", failure="timeout")], respond=(200, 4002))
    )  # fmt: skip
    with TestClient(create_app(settings, announce_admin_token=lambda _t: None)) as test_client:
        node = test_client.app.state.node  # type: ignore[attr-defined]
        position = record(node.store, *messages)
        for name in ("audit", "traffic"):
            node.runners[name].wait(position, timeout=20)
        yield test_client


def sign_in(client: TestClient, token: str = ADMIN) -> TestClient:
    form = client.get("/console/sign-in").text
    login = re.search(r'name="login" value="([^"]+)"', form)
    assert login is not None
    client.post(
        "/console/sign-in",
        data={"login": login.group(1), "token": token, "next": "/console"},
        follow_redirects=False,
    )
    return client


def csrf_of(client: TestClient, path: str = "/console") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_sign_in_and_shows_nothing(
    client: TestClient, path: str
) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?next=%2Fconsole")
    assert "dispute" not in answer.text and "NL*CPO" not in answer.text
    client.cookies.set("ocpi_console", "9999999999.abc.def", path="/console")
    assert client.get(path, follow_redirects=False).status_code == 303


def test_the_admin_token_buys_a_strict_http_only_session_cookie(client: TestClient) -> None:
    form = client.get("/console/sign-in")
    login = re.search(r'name="login" value="([^"]+)"', form.text)
    assert login is not None
    wrong = client.post(
        "/console/sign-in",
        data={"login": login.group(1), "token": "guess"},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "Unknown admin token" in wrong.text
    assert "ocpi_console=" not in wrong.headers.get("set-cookie", "")
    login = re.search(r'name="login" value="([^"]+)"', wrong.text)
    assert login is not None
    right = client.post(
        "/console/sign-in",
        data={"login": login.group(1), "token": ADMIN, "next": "https://elsewhere.example/"},
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/console"
    cookie = next(c for c in right.headers.get_list("set-cookie") if c.startswith("ocpi_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert client.get("/console").status_code == 200


def test_a_sign_in_form_not_served_to_this_browser_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/console/sign-in", data={"login": "made-up", "token": ADMIN}, follow_redirects=False
    )
    assert answer.status_code == 401 and "ocpi_console=" not in answer.headers.get("set-cookie", "")


def test_pages_keep_the_browser_on_the_nodes_origin(client: TestClient) -> None:
    page = sign_in(client).get("/console/traffic")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "form-action 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(("/", "#")) for s in sources), sources
    script = client.get("/console/static/uPlot.iife.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/console/static/..%2Fsession.py").status_code == 404


def test_a_change_without_the_sessions_csrf_token_is_refused(client: TestClient) -> None:
    sign_in(client)
    for data in ({"label": "evil"}, {"label": "evil", "csrf": "forged"}):
        answer = client.post("/console/invitations", data=data, follow_redirects=False)
        assert answer.status_code == 403
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert client.get("/admin/connections", headers=admin).json() == []
    form = {"label": "CPO one", "csrf": csrf_of(client)}
    invited = client.post("/console/invitations", data=form)
    assert invited.status_code == 200 and "Token A" in invited.text
    connections = client.get("/admin/connections", headers=admin).json()
    assert [c["label"] for c in connections] == ["CPO one"]


def test_an_invitation_from_the_console_proposes_an_ocpi_version_and_role(
    client: TestClient,
) -> None:
    sign_in(client)
    network = client.get("/console/network").text
    assert 'name="ocpi_version"' in network and 'name="role"' in network
    form = {"label": "old CPO", "csrf": csrf_of(client), "ocpi_version": "2.1.1"}
    refused = client.post("/console/invitations", data=form)
    invited = client.post("/console/invitations", data={**form, "role": "CPO"})

    assert refused.status_code == 400 and "needs its role (CPO or EMSP)" in refused.text
    assert invited.status_code == 200 and "Token A" in invited.text
    admin = {"Authorization": f"Bearer {ADMIN}"}
    (connection,) = client.get("/admin/connections", headers=admin).json()
    assert (connection["proposed_version"], connection["proposed_role"]) == ("2.1.1", "CPO")
    page = client.get(f"/console/connections/{connection['id']}").text
    assert "proposed 2.1.1 as CPO" in page


def test_signing_out_needs_the_csrf_token_and_ends_the_session_in_the_browser(
    client: TestClient,
) -> None:
    sign_in(client)
    assert client.post("/console/sign-out", data={}, follow_redirects=False).status_code == 403
    out = client.post("/console/sign-out", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_search_shows_the_total_and_pages_through_it(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/console/messages", params={"correlation_id": "dispute", "limit": 2})
    assert "Showing 1\N{EN DASH}2 of 3 messages" in page.text
    assert page.text.count('href="/console/messages/') == 2
    assert 'rel="next"' in page.text and 'rel="prev"' not in page.text
    bad = client.get("/console/messages", params={"direction": "sent"})
    assert bad.status_code == 400 and "direction needs party" in bad.text


def test_the_console_evidence_is_the_admin_apis_bundle_and_verifies(client: TestClient) -> None:
    sign_in(client)
    bundle = client.get("/console/evidence", params={"correlation_id": "dispute"})
    assert bundle.headers["content-disposition"].startswith("attachment;")
    document = json.loads(bundle.content)
    assert verify_bundle(document)["ok"] and len(document["messages"]) == 3
    admin = client.get(
        "/admin/evidence",
        params={"correlation_id": "dispute"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    ).json()
    assert [m["id"] for m in admin["messages"]] == [m["id"] for m in document["messages"]]
    missing = client.get("/console/evidence", params={"correlation_id": "nothing"})
    assert missing.status_code == 404 and "no messages" in missing.text


def test_what_a_platform_sent_is_shown_as_text_never_run_as_markup(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    found = client.get("/admin/messages", params={"request_id": "xss"}, headers=admin)
    (message,) = found.json()["data"]["messages"]
    page = sign_in(client).get(f"/console/messages/{message['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text

