"""Custom modules through the routing service with fakes: direct only, never via a hub, refused
by a hub, delivered to a hosted party's backend only where it publishes the module."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from application.local_backends import LocalBackend, LocalBackends
from application.routing import Answer, InboundRequest, RoutingConfig
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.route_choice import PolicyRule, RoutePolicy
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role
from tests.unit.routing_service.test_route_choice import (
    FakeDeliverer,
    FakeRecorder,
    service_with_fakes,
)

MODULE = "x-evroaming-reservations"
EMSP = PartyKey("NL", "EMA", Role.EMSP)
CPO = PartyKey("NL", "CPA", Role.CPO)
HUB = PartyKey("NL", "HUB", Role.HUB)
BACKEND = ConnectionEntry("local", "backend", "us", ConnectionStatus.CONNECTED, roles=(EMSP,))


def peer(connection_id: str, roles: tuple[PartyKey, ...], *modules: str) -> ConnectionEntry:
    base = f"https://{connection_id}.example.com/ocpi/2.2.1"
    return ConnectionEntry(
        id=connection_id,
        label=connection_id,
        initiated_by="us",
        status=ConnectionStatus.CONNECTED,
        endpoints=tuple((m, "RECEIVER", f"{base}/{m}/receiver") for m in modules),
        roles=roles,
        inbound_token_hash=f"hash-{connection_id}",
        outbound_token=f"token-{connection_id}",
    )


def network(direct_modules: tuple[str, ...] | None) -> InMemoryRoutingTable:
    """CPO behind a hub that offers every module, and (unless None) a direct connection."""
    table = InMemoryRoutingTable()
    table.put_connection(peer("peerhub", (HUB,), MODULE, "tariffs"))
    table.put_party("p-cpo", CPO, {}, "")
    table.put_route("p-cpo", "peerhub", "hub", ConnectionStatus.CONNECTED, None, "")
    if direct_modules is not None:
        table.put_connection(peer("direct", (CPO,), *direct_modules))
        table.put_route("p-cpo", "direct", "direct", ConnectionStatus.CONNECTED, None, "")
    return table


def send(
    table: InMemoryRoutingTable,
    *,
    hub: PartyRef | None = None,
    connection: ConnectionEntry = BACKEND,
    sender_parties: tuple[PartyKey, ...] | None = (EMSP,),
    to: PartyRef | None = CPO.ref,
    policy: tuple[PolicyRule, ...] = (),
    backends: LocalBackends | None = None,
    module: str = MODULE,
) -> tuple[Answer, FakeDeliverer, FakeRecorder]:
    service, deliverer, recorder = service_with_fakes(
        RoutingConfig(hub=hub, base_url="https://node.example.com", policy=policy), table, backends
    )
    headers = {"ocpi-from-country-code": "NL", "ocpi-from-party-id": "EMA", "x-request-id": "r"}
    if to is not None:
        headers |= {"ocpi-to-country-code": to.country_code, "ocpi-to-party-id": to.party_id}
    request = InboundRequest(
        connection=connection,
        module=module,
        interface="RECEIVER",
        method="POST",
        path="/NL/EMA/res-1",
        query="hold=15",
        headers=headers,
        body=b'{"evse":"E1"}',
        sender_parties=sender_parties,
    )
    return asyncio.run(service.handle(request)), deliverer, recorder


def test_a_custom_module_goes_over_the_direct_connection_that_offers_it_path_relayed_as_is():
    answer, deliverer, recorder = send(network((MODULE,)))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "direct"
    assert delivery.url == (
        f"https://direct.example.com/ocpi/2.2.1/{MODULE}/receiver/NL/EMA/res-1?hold=15"
    )
    assert delivery.body == b'{"evse":"E1"}'
    routed = recorder.events[1]
    assert routed.via == "direct" and answer.via == "direct"
    assert f"custom module {MODULE} goes direct only" in routed.reason


def test_a_custom_module_goes_as_it_is_between_platforms_of_different_ocpi_versions():
    table = network((MODULE,))
    direct = table.connection("direct")
    assert direct is not None
    table.put_connection(replace(direct, version="2.3.0"))

    answer, deliverer, recorder = send(table)

    (delivery,) = deliverer.deliveries
    assert delivery.body == b'{"evse":"E1"}' and json.loads(answer.body)["status_code"] == 1000
    (forwarded,) = [e for e in recorder.events if type(e).__name__ == "Forwarded"]
    assert forwarded.translation == {
        "source_version": "2.2.1",
        "target_version": "2.3.0",
        "losses": [],
    }


def test_a_custom_module_is_never_sent_via_a_hub_even_when_the_hub_offers_it():
    for table in (network(None), network(("tariffs",))):
        answer, deliverer, recorder = send(table)
        assert deliverer.deliveries == []
        assert [type(e).__name__ for e in recorder.events] == ["Received", "Refused", "Responded"]
        refused = recorder.events[1]
        assert refused.ocpi_status == 4001
        assert "never via a hub" in refused.reason
        assert f"no CONNECTED direct connection offers {MODULE} RECEIVER" in refused.reason
        assert answer.via is None


def test_policy_hub_does_not_send_a_custom_module_via_the_hub():
    rule = PolicyRule(CPO.ref, MODULE, RoutePolicy.HUB)
    _, deliverer, recorder = send(network((MODULE,)), policy=(rule,))
    assert deliverer.deliveries == []
    assert "never routed via a hub" in recorder.events[1].reason


def test_a_custom_module_without_ocpi_to_is_refused_on_record():
    answer, deliverer, recorder = send(network((MODULE,)), to=None)
    assert deliverer.deliveries == []
    refused = recorder.events[1]
    assert refused.ocpi_status == 2001 and "needs OCPI-to" in refused.reason
    assert b"never open-routed" in answer.body


def test_a_hub_refuses_a_custom_module_on_record_and_never_forwards_it():
    table = network((MODULE,))
    emsp_peer = with_emsp_peer(table)
    answer, deliverer, recorder = send(
        table, hub=HUB.ref, connection=emsp_peer, sender_parties=None
    )
    assert deliverer.deliveries == []
    assert answer.http_status == 404
    refused = recorder.events[1]
    assert refused.ocpi_status == 2001
    assert "routed between platforms directly, never via a hub" in refused.reason


def test_an_ocpi_module_is_routed_as_before_next_to_custom_ones():
    table = network(("tariffs",))
    answer, deliverer, _ = send(table, module="tariffs")
    # tariffs RECEIVER POST is no OCPI operation: refused by the parser, as before
    assert deliverer.deliveries == [] and b"does not support POST" in answer.body


def with_emsp_peer(table: InMemoryRoutingTable) -> ConnectionEntry:
    """A peer platform hosting the eMSP: its requests come in over that connection."""
    emsp_peer = peer("emsp", (EMSP,))
    table.put_connection(emsp_peer)
    table.put_party("p-emsp", EMSP, {}, "")
    table.put_route("p-emsp", "emsp", "direct", ConnectionStatus.CONNECTED, None, "")
    return emsp_peer


def hosted_cpo(published: dict[tuple[str, str], str]) -> tuple[InMemoryRoutingTable, LocalBackends]:
    table = InMemoryRoutingTable()
    table.put_party("p-cpo", CPO, {}, "")
    table.put_route("p-cpo", "local", "local", ConnectionStatus.CONNECTED, "http://b/versions", "")
    backend = LocalBackend("http://b/versions", "backend-token-0123", (CPO,))
    backends = LocalBackends([backend])
    backends.discovered(backend, published)
    return table, backends


def test_a_peers_custom_request_reaches_the_hosted_partys_backend_at_its_published_url():
    url = "http://b/ocpi/cpo/2.2.1/reservations"
    table, backends = hosted_cpo({(MODULE, "RECEIVER"): url})
    emsp_peer = with_emsp_peer(table)
    answer, deliverer, recorder = send(
        table, connection=emsp_peer, sender_parties=None, backends=backends
    )
    (delivery,) = deliverer.deliveries
    assert delivery.url == f"{url}/NL/EMA/res-1?hold=15"
    assert delivery.headers["authorization"] == "Token YmFja2VuZC10b2tlbi0wMTIz"
    assert recorder.events[1].via == "local" and answer.via == "local"


def test_a_hosted_party_whose_backend_does_not_publish_the_custom_module_gets_4001():
    table, backends = hosted_cpo({("tariffs", "SENDER"): "http://b/tariffs"})
    emsp_peer = with_emsp_peer(table)
    _, deliverer, recorder = send(
        table, connection=emsp_peer, sender_parties=None, backends=backends
    )
    assert deliverer.deliveries == []
    refused = recorder.events[1]
    assert refused.ocpi_status == 4001
    assert f"backend publishes no {MODULE} RECEIVER endpoint" in refused.reason


def test_the_custom_modules_the_backends_publish_are_listed_once_and_invalid_ids_are_skipped():
    _, backends = hosted_cpo(
        {
            (MODULE, "RECEIVER"): "http://b/r",
            (MODULE, "SENDER"): "http://b/s",
            ("energymix", "SENDER"): "http://b/e",
            ("tariffs", "SENDER"): "http://b/t",
            ("Not Valid", "SENDER"): "http://b/n",
            ("energymix", "BOTH"): "http://b/x",
        }
    )
    assert [(str(m), str(r)) for m, r in backends.custom_interfaces()] == [
        ("energymix", "SENDER"),
        (MODULE, "RECEIVER"),
        (MODULE, "SENDER"),
    ]
