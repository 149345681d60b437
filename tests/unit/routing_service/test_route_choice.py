"""The routing service with fakes: which route a party is reached by, and what is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from application.bodies import Body
from application.delivery import Delivered, Delivery, DeliveryOutcome
from application.owner_index import InMemoryOwnerIndex
from application.routing_service import InboundRequest, RoutingConfig, RoutingService
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.messages import RoutedMessage
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role

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

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        for message in messages:
            self.events.extend(message.collect_events())
        return len(self.events)

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        for message in messages:
            self.events.extend(message.collect_events())


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


def route_once(table: InMemoryRoutingTable) -> tuple[FakeDeliverer, FakeRecorder]:
    deliverer, recorder = FakeDeliverer(), FakeRecorder()

    async def inline(function: Any, *args: Any) -> Any:
        return function(*args)

    service = RoutingService(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"),
        table,
        recorder,
        deliverer,
        links=None,  # type: ignore[arg-type]  # a tariffs GET touches no links or objects
        objects=None,  # type: ignore[arg-type]
        owners=InMemoryOwnerIndex(),
        owner_facts=None,  # type: ignore[arg-type]
        blocking=inline,
    )
    request = InboundRequest(
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
            "x-request-id": "r1",
        },
    )
    asyncio.run(service.handle(request))
    return deliverer, recorder


def test_a_connected_direct_route_is_preferred_over_a_hub_route() -> None:
    deliverer, recorder = route_once(network(ConnectionStatus.CONNECTED))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "direct"
    assert delivery.headers["authorization"] == "Token dG9rZW4tZGlyZWN0"
    routed = recorder.events[1]
    assert "direct route over connection direct" in routed.reason
    assert "preferred over 1 other route" in routed.reason


def test_a_hub_route_carries_the_traffic_while_the_direct_one_is_offline() -> None:
    deliverer, recorder = route_once(network(ConnectionStatus.OFFLINE))
    (delivery,) = deliverer.deliveries
    assert delivery.target.route_key == "peerhub" and delivery.target.kind == "hub"
    assert delivery.url == "https://peerhub.example.com/ocpi/tariffs/sender"
    assert "hub route" in recorder.events[1].reason
