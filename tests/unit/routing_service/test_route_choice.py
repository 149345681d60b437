"""The routing service with fakes: which route a party is reached by, and what is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from application.bodies import Body
from application.delivery import Delivered, Delivery, DeliveryOutcome
from application.local_backends import LocalBackend, LocalBackends
from application.owner_index import InMemoryOwnerIndex
from application.routing import InboundRequest, RoutingConfig, RoutingService
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.messages import RoutedMessage
from domain.route_choice import PolicyRule, RoutePolicy
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role
from tests.recorded import steps

EMSP = PartyKey("NL", "EMA", Role.EMSP)
CPO = PartyKey("NL", "CPA", Role.CPO)
HUB = PartyRef("NL", "HUB")


class FakeDeliverer:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        self.deliveries.append(delivery)
        return Delivered(200, {"content-type": "application/json"}, b'{"status_code":1000}', 1.0)

    async def aclose(self) -> None:
        pass


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[Any] = []
        """The steps recorded (domain.message_steps), in order."""
        self.stored: list[Any] = []
        """The events as stored (two per routed message)."""

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        for message in messages:
            self.events.extend(steps(message, self.stored))
        return len(self.events)

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        for message in messages:
            self.events.extend(steps(message, self.stored))


def connection(connection_id: str, status: ConnectionStatus, roles: tuple[PartyKey, ...]) -> Any:
    url = f"https://{connection_id}.example.com/ocpi/tariffs/sender"
    return ConnectionEntry(
        id=connection_id,
        label=connection_id,
        initiated_by="peer",
        status=status,
        endpoints=(("tariffs", "SENDER", url),),
        roles=roles,
        inbound_token_hash=f"hash-{connection_id}",
        outbound_token=f"token-{connection_id}",
    )


def network(direct_status: ConnectionStatus) -> InMemoryRoutingTable:
    table = InMemoryRoutingTable()
    table.put_connection(connection("emsp", ConnectionStatus.CONNECTED, (EMSP,)))
    table.put_connection(connection("direct", direct_status, (CPO,)))
    table.put_connection(connection("peerhub", ConnectionStatus.CONNECTED, ()))
    table.put_party("p-emsp", EMSP, {}, "")
    table.put_route("p-emsp", "emsp", "direct", ConnectionStatus.CONNECTED, None, "")
    table.put_party("p-cpo", CPO, {}, "")
    table.put_route("p-cpo", "direct", "direct", direct_status, None, "")
    table.put_route("p-cpo", "peerhub", "hub", ConnectionStatus.CONNECTED, None, "")
    return table


def service_with_fakes(
    config: RoutingConfig, table: InMemoryRoutingTable, backends: LocalBackends | None = None
) -> tuple[RoutingService, FakeDeliverer, FakeRecorder]:
    """A routing service for requests that touch no links, hub objects or owner facts."""
    deliverer, recorder = FakeDeliverer(), FakeRecorder()

    async def inline(function: Any, *args: Any) -> Any:
        return function(*args)

    service = RoutingService(
        config,
        table,
        recorder,
        deliverer,
        links=None,  # type: ignore[arg-type]
        objects=None,  # type: ignore[arg-type]
        owners=InMemoryOwnerIndex(),
        owner_facts=None,  # type: ignore[arg-type]
        blocking=inline,
        backends=backends,
    )
    return service, deliverer, recorder


def route_once(
    table: InMemoryRoutingTable,
    policy: tuple[PolicyRule, ...] = (),
    backends: LocalBackends | None = None,
) -> tuple[FakeDeliverer, FakeRecorder]:
    service, deliverer, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com", policy=policy), table, backends
    )
    asyncio.run(service.handle(tariffs_get(table)))
    return deliverer, recorder


def tariffs_get(table: InMemoryRoutingTable, request_id: str = "r1") -> InboundRequest:
    """A GET of the CPO's tariffs from the eMSP, addressed by OCPI-to headers."""
    return InboundRequest(
        connection=table.connection("emsp"),  # type: ignore[arg-type]
        module="tariffs",
        interface="SENDER",
        method="GET",
        path="",
        query="",
        headers={
            "ocpi-from-country-code": "NL",
            "ocpi-from-party-id": "EMA",
            "ocpi-to-country-code": "NL",
            "ocpi-to-party-id": "CPA",
            "x-request-id": request_id,
        },
    )


def test_a_connected_direct_route_is_preferred_over_a_hub_route() -> None:
    deliverer, recorder = route_once(network(ConnectionStatus.CONNECTED))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "direct"
    assert delivery.headers["authorization"] == "Token dG9rZW4tZGlyZWN0"
    routed = recorder.events[1]
    assert routed.via == "direct"
    assert "direct preferred: direct connection direct is CONNECTED" in routed.reason


def test_a_hub_route_carries_the_traffic_while_the_direct_one_is_offline() -> None:
    deliverer, recorder = route_once(network(ConnectionStatus.OFFLINE))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "peerhub" and delivery.target.kind == "hub"
    assert delivery.url == "https://peerhub.example.com/ocpi/tariffs/sender"
    routed = recorder.events[1]
    assert routed.via == "hub"
    assert "direct connection direct is OFFLINE" in routed.reason
    assert "via hub connection peerhub" in routed.reason


def test_policy_hub_sends_via_the_hub_although_the_direct_route_is_connected() -> None:
    rule = PolicyRule(CPO.ref, "tariffs", RoutePolicy.HUB)
    deliverer, recorder = route_once(network(ConnectionStatus.CONNECTED), policy=(rule,))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "peerhub"
    assert recorder.events[1].reason.startswith("policy hub")


def test_policy_direct_refuses_rather_than_use_the_hub_while_the_direct_one_is_down() -> None:
    rule = PolicyRule(CPO.ref, "*", RoutePolicy.DIRECT)
    deliverer, recorder = route_once(network(ConnectionStatus.SUSPENDED), policy=(rule,))
    assert deliverer.deliveries == []
    refused = recorder.events[1]
    assert refused.ocpi_status == 4003 and "policy direct" in refused.reason


def hosted_cpo(url: str | None) -> tuple[InMemoryRoutingTable, LocalBackends]:
    table = InMemoryRoutingTable()
    table.put_connection(connection("emsp", ConnectionStatus.CONNECTED, (EMSP,)))
    table.put_party("p-emsp", EMSP, {}, "")
    table.put_route("p-emsp", "emsp", "direct", ConnectionStatus.CONNECTED, None, "")
    table.put_party("p-cpo", CPO, {}, "")
    table.put_route("p-cpo", "local", "local", ConnectionStatus.CONNECTED, "http://b/versions", "")
    backend = LocalBackend("http://b/versions", "backend-token-0123", (CPO,))
    backends = LocalBackends([backend])
    if url is not None:
        backends.discovered(backend, {("tariffs", "SENDER"): url})
    return table, backends


def test_a_hosted_party_is_reached_at_the_url_its_backend_publishes_with_the_backend_token():
    table, backends = hosted_cpo("http://b/ocpi/cpo/2.2.1/tariffs")
    deliverer, recorder = route_once(table, backends=backends)
    (delivery,) = deliverer.deliveries
    assert delivery.url == "http://b/ocpi/cpo/2.2.1/tariffs"
    assert delivery.headers["authorization"] == "Token YmFja2VuZC10b2tlbi0wMTIz"
    assert recorder.events[1].via == "local"


def test_a_hosted_party_whose_backend_is_not_read_yet_is_refused_with_the_reason():
    table, backends = hosted_cpo(None)
    deliverer, recorder = route_once(table, backends=backends)
    assert deliverer.deliveries == []
    assert "not known yet" in recorder.events[1].reason


class KeptFacts:
    def __init__(self) -> None:
        self.facts: list[Any] = []

    def add(self, fact: Any) -> None:
        self.facts.append(fact)


def test_a_platform_sends_a_push_without_ocpi_to_to_its_hub_as_a_broadcast() -> None:
    hub = PartyKey("NL", "HUB", Role.HUB)
    table = InMemoryRoutingTable()
    table.put_connection(
        ConnectionEntry(
            id="hubconn",
            label="the hub",
            initiated_by="us",
            status=ConnectionStatus.CONNECTED,
            endpoints=(("locations", "RECEIVER", "https://hub.example.com/locations/receiver"),),
            roles=(hub,),
            outbound_token="token-hub",
        )
    )
    deliverer, recorder = FakeDeliverer(), FakeRecorder()

    async def inline(function: Any, *args: Any) -> Any:
        return function(*args)

    service = RoutingService(
        RoutingConfig(hub=None, base_url="https://platform.example.com"),
        table,
        recorder,
        deliverer,
        links=None,  # type: ignore[arg-type]
        objects=None,  # type: ignore[arg-type]
        owners=InMemoryOwnerIndex(),
        owner_facts=KeptFacts(),  # type: ignore[arg-type]
        blocking=inline,
    )
    request = InboundRequest(
        connection=ConnectionEntry("local", "backend", "us", ConnectionStatus.CONNECTED),
        module="locations",
        interface="RECEIVER",
        method="PUT",
        path="/NL/CPA/LOC1",
        query="",
        headers={"ocpi-from-country-code": "NL", "ocpi-from-party-id": "CPA", "x-request-id": "r"},
        body=b'{"id":"LOC1"}',
        sender_parties=(CPO,),
    )
    answer = asyncio.run(service.handle(request))
    (delivery,) = deliverer.deliveries
    assert delivery.url == "https://hub.example.com/locations/receiver/NL/CPA/LOC1"
    assert delivery.headers["ocpi-to-party-id"] == "HUB"
    assert answer.via == "hub" and "broadcast via hub connection the hub" in answer.reason
