"""Two platform nodes connected peer to peer, each hosting one party whose backend publishes a
custom module: a backend's custom-module request reaches the other platform's backend over the
direct connection, the answer comes back, and both ledgers hold it with the way it went."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from domain.values import ConnectionStatus, PartyRef
from infrastructure.database_url import DatabaseUrl
from infrastructure.ledger_reader import LedgerEntry, read_ledger
from tests.conftest import STORES, drop_schema, fresh_database
from tests.e2e.test_connecting_nodes import sibling
from tests.support.fake_platform import FakePlatform, Reply, envelope
from tests.support.nodes import RunningNode, running_node
from tests.support.servers import wait_for

MODULE = "x-evroaming-reservations"
EMSP = PartyRef("NL", "EM1")
CPO = PartyRef("DE", "CP1")


@dataclass
class Side:
    party: PartyRef
    backend: FakePlatform
    backend_token: str
    node: RunningNode | None = None

    def egress(
        self, path: str, to: PartyRef | None, body: dict[str, object] | None = None
    ) -> httpx.Response:
        assert self.node is not None
        headers = {
            "authorization": "Token " + base64.b64encode(self.backend_token.encode()).decode(),
            "x-request-id": str(uuid.uuid4()),
            "x-correlation-id": str(uuid.uuid4()),
            "ocpi-from-country-code": self.party.country_code,
            "ocpi-from-party-id": self.party.party_id,
            "content-type": "application/json",
        }
        if to is not None:
            headers["ocpi-to-country-code"] = to.country_code
            headers["ocpi-to-party-id"] = to.party_id
        content = json.dumps(body).encode() if body is not None else None
        return httpx.post(
            f"{self.node.url}/egress/{path}", headers=headers, content=content, timeout=10
        )

    def ledger(self, correlation_id: str) -> list[LedgerEntry]:
        assert self.node is not None
        self.node.node.committer.flush()
        entries = read_ledger(self.node.node.settings.database).values()
        return [e for e in entries if e.correlation_id == correlation_id]


def backend(name: str, interface: str) -> FakePlatform:
    """A party's backend: OCPI version details listing the custom module with `interface`."""
    platform = FakePlatform(name).start()
    details = {
        "version": "2.2.1",
        "endpoints": [
            {
                "identifier": MODULE,
                "role": interface,
                "url": platform.endpoint(MODULE, interface),
            },
            *platform.endpoints_for(),
        ],
    }
    versions = [{"version": "2.2.1", "url": platform.base}]
    platform.on("GET", "/ocpi/versions", Reply(body=envelope(versions)))
    platform.on("GET", "/ocpi/2.2.1", Reply(body=envelope(details)))
    return platform


def config(path: Path, side: Side, role: str) -> str:
    path.write_text(
        "[[parties]]\n"
        f'country_code = "{side.party.country_code}"\n'
        f'party_id = "{side.party.party_id}"\n'
        f'role = "{role}"\n'
        f'backend_url = "{side.backend.url}/ocpi/versions"\n'
        f'backend_token = "{side.backend_token}"\n'
        "[parties.business_details]\n"
        f'name = "{side.party}"\n'
    )
    return str(path)


def connected(node: RunningNode, party: PartyRef, module: str, interface: str) -> bool:
    table = node.node.routing_table
    for route in table.routes_to(party):
        connection = table.connection(route.route_key)
        if (
            connection is not None
            and route.kind == "direct"
            and route.status is ConnectionStatus.CONNECTED
            and connection.status is ConnectionStatus.CONNECTED
            and connection.endpoint_url(module, interface) is not None
        ):
            return True
    return False


@pytest.fixture(scope="module", params=STORES)
def platforms(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Side, Side]]:
    emsp = Side(EMSP, backend("backend-emsp", "SENDER"), "emsp-backend-token-0123456789")
    cpo = Side(CPO, backend("backend-cpo", "RECEIVER"), "cpo-backend-token-0123456789")
    configs = tmp_path_factory.mktemp("configs")
    databases = fresh_database(request.param, tmp_path_factory)
    url_a = next(databases)
    url_b: DatabaseUrl = sibling(url_a)
    try:
        with (
            running_node(
                url_a, mode="platform", party=str(EMSP),
                config=config(configs / "a.toml", emsp, "EMSP"),
            ) as node_a,
            running_node(
                url_b, mode="platform", party=str(CPO),
                config=config(configs / "b.toml", cpo, "CPO"),
            ) as node_b,
        ):  # fmt: skip
            emsp.node, cpo.node = node_a, node_b
            invitation = node_b.admin("POST", "/invitations", json={"label": "from A"}).json()
            made = node_a.admin(
                "POST",
                "/connections",
                json={
                    "label": "A -> B",
                    "versions_url": invitation["versions_url"],
                    "token_a": invitation["token_a"],
                },
            )
            assert made.status_code in (200, 201), made.text
            wait_for(lambda: connected(node_a, CPO, MODULE, "RECEIVER"), message="A knows B")
            wait_for(lambda: connected(node_b, EMSP, MODULE, "SENDER"), message="B knows A")
            yield emsp, cpo
    finally:
        emsp.backend.stop()
        cpo.backend.stop()
        if url_b.is_postgres:
            drop_schema(url_b)
        next(databases, None)


def custom_requests(side: Side, module: str = MODULE) -> list[object]:
    return [r for r in side.backend.requests if f"/{module}/" in r.path]


def test_each_platform_lists_the_custom_modules_of_its_backends_in_its_version_details(
    platforms: tuple[Side, Side],
) -> None:
    # what each peer read from the other's 2.2.1 version details during the handshake
    emsp, cpo = platforms
    assert connected(emsp.node, CPO, MODULE, "RECEIVER")  # type: ignore[arg-type]
    assert connected(cpo.node, EMSP, MODULE, "SENDER")  # type: ignore[arg-type]
    assert not connected(emsp.node, CPO, MODULE, "SENDER")  # type: ignore[arg-type]


def test_a_custom_request_reaches_the_other_platforms_backend_and_the_answer_comes_back(
    platforms: tuple[Side, Side],
) -> None:
    emsp, cpo = platforms
    answer_body = envelope({"reservation_id": "R-1"})
    cpo.backend.on("POST", f"/ocpi/2.2.1/{MODULE}/receiver", Reply(body=answer_body))
    response = emsp.egress(f"{MODULE}/receiver/NL/EM1/res-1?hold=15", CPO, {"evse": "E1"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"reservation_id": "R-1"}
    assert response.headers["x-ledger-route"] == "direct"
    assert f"custom module {MODULE} goes direct only" in response.headers["x-ledger-route-reason"]
    (delivered,) = custom_requests(cpo)
    assert delivered.path == f"/ocpi/2.2.1/{MODULE}/receiver/NL/EM1/res-1"  # type: ignore[attr-defined]
    assert delivered.query == "hold=15"  # type: ignore[attr-defined]
    assert delivered.json() == {"evse": "E1"}  # type: ignore[attr-defined]
    sent = delivered.headers  # type: ignore[attr-defined]
    assert sent["authorization"] == "Token " + base64.b64encode(cpo.backend_token.encode()).decode()
    assert (sent["ocpi-to-party-id"], sent["ocpi-from-party-id"]) == ("CP1", "EM1")
    correlation = sent["x-correlation-id"]
    (on_a,) = emsp.ledger(correlation)
    assert (on_a.module, on_a.route) == (MODULE, "direct")
    assert "goes direct only" in (on_a.reason or "") and "Answered" in on_a.outcomes
    (on_b,) = cpo.ledger(correlation)
    assert (on_b.module, on_b.route) == (MODULE, "local")


def test_a_custom_module_the_peer_does_not_publish_is_refused_with_the_reason(
    platforms: tuple[Side, Side],
) -> None:
    emsp, cpo = platforms
    response = emsp.egress("energymix/receiver", CPO, {"mix": []})
    body = response.json()
    assert body["status_code"] == 4001
    assert "no CONNECTED direct connection offers energymix RECEIVER" in body["status_message"]
    assert custom_requests(cpo, "energymix") == []


def test_a_custom_request_without_ocpi_to_or_with_a_bad_module_id_gets_a_clear_error(
    platforms: tuple[Side, Side],
) -> None:
    emsp, _ = platforms
    missing = emsp.egress(f"{MODULE}/receiver", None, {})
    assert missing.json()["status_code"] == 2001
    assert "needs OCPI-to" in missing.json()["status_message"]
    bad = emsp.egress("no.dots/receiver", CPO, {})
    assert bad.status_code == 404 and bad.json()["status_code"] == 2001
    assert "valid custom module id" in bad.json()["status_message"]
