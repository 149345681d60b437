"""A 2.2.1 object through a 2.1.1 party and back, along the routed path (issue 17): a 2.2.1 CPO
pushes it to a 2.1.1 platform (the leg is translated down), the platform serves what it got to
a 2.2.1 eMSP's GET (the answer is translated up); a session or CDR comes back as a 2.1.1 CPO's
push routed by its auth_id (translated up). Whatever changed on the way is named by the
loss report the ledger holds for the push; nothing the report names came back unchanged."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.delivery import Delivered, Delivery, DeliveryFailed, DeliveryOutcome
from application.hub_store import ObjectKey
from application.owner_index import CONTRACT, OwnerFact
from application.routing import InboundRequest, RoutingConfig
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.messages import RoutedMessage
from domain.status_codes import HubError
from domain.translation import Loss, LossKind, Translation
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role
from tests.unit.routing_service.test_route_choice import FakeRecorder, service_with_fakes
from tests.unit.translation.strategies import objects
from tests.unit.translation.test_round_trips import (
    REFUSALS_TO_211,
    _stored_location_for,
    assert_round_trip,
)

HUB = PartyRef("NL", "HUB")
CPO_221 = PartyKey("NL", "CPA", Role.CPO)
EMSP_211 = PartyKey("NL", "EMB", Role.EMSP)
EMSP_221 = PartyKey("NL", "EMC", Role.EMSP)
CPO_211 = PartyKey("NL", "CPD", Role.CPO)
# Why the push may be refused instead: decisions of the digest, tested by table elsewhere.
REFUSALS = {"Location": (), "Tariff": ("nothing_left",)}


class MirrorPlatform:
    """A 2.1.1 platform that keeps what it is sent and serves it back on a GET."""

    def __init__(self) -> None:
        self.held: bytes = b"null"

    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        if delivery.method in ("PUT", "POST"):
            self.held = delivery.body
            return Delivered(200, {"content-type": "application/json"}, b'{"status_code":1000}', 1)
        # a list GET (tariffs have no single-object GET) gets a page of the one object held
        data = b"[" + self.held + b"]" if delivery.url.endswith("/sender") else self.held
        answer = b'{"status_code":1000,"data":' + data + b"}"
        return Delivered(200, {"content-type": "application/json"}, answer, 1.0)

    async def aclose(self) -> None:
        pass


class OwnerFacts:
    def __init__(self) -> None:
        self.facts: list[OwnerFact] = []

    def add(self, fact: OwnerFact) -> None:
        self.facts.append(fact)

    def all(self) -> Iterable[OwnerFact]:
        return list(self.facts)


def _network() -> InMemoryRoutingTable:
    table = InMemoryRoutingTable()
    for party, version in ((CPO_221, "2.2.1"), (EMSP_211, "2.1.1"), (EMSP_221, "2.2.1"),
                           (CPO_211, "2.1.1")):  # fmt: skip
        connection_id = f"conn-{party.party_id}"
        url = f"https://{party.party_id.lower()}.example.com/ocpi/{version}"
        interface = "SENDER" if party.role is Role.CPO else "RECEIVER"
        # a 2.1.1 endpoint names no interface: the party's role implies it
        named = "" if version == "2.1.1" else interface
        endpoints = tuple(
            (module, named, f"{url}/{module}/{interface.lower()}")
            for module in ("locations", "tariffs", "sessions", "cdrs")
        )
        table.put_connection(
            ConnectionEntry(
                id=connection_id,
                label=connection_id,
                initiated_by="peer",
                status=ConnectionStatus.CONNECTED,
                version=version,
                endpoints=endpoints,
                roles=(party,),
                outbound_token=f"token-{party.party_id}",
            )
        )
        table.put_party(f"p-{party.party_id}", party, {}, "")
        table.put_route(
            f"p-{party.party_id}", connection_id, "direct", ConnectionStatus.CONNECTED, None, ""
        )
    return table


def _request(
    table: InMemoryRoutingTable,
    sender: PartyKey,
    to: PartyKey,
    method: str,
    module: str,
    interface: str,
    path: str,
    body: bytes = b"",
) -> InboundRequest:
    connection = table.connection(f"conn-{sender.party_id}")
    assert connection is not None
    headers = {
        "ocpi-from-country-code": sender.country_code,
        "ocpi-from-party-id": sender.party_id,
        "ocpi-to-country-code": to.country_code,
        "ocpi-to-party-id": to.party_id,
        "x-request-id": f"{method}-{module}",
        "x-correlation-id": "c",
        "content-type": "application/json",
    }
    return InboundRequest(connection, module, interface, method, path, "", headers, body)


def _translation(recorder: FakeRecorder, event: type, which: int, body: Any) -> Translation:
    """The `which`-th recorded translation on an `event` (the push is first, the GET second)."""
    record = [e for e in recorder.events if isinstance(e, event) and e.translation][
        which
    ].translation
    losses = tuple(
        Loss(
            loss["path"].removeprefix("[0]."),
            LossKind(loss["kind"]),
            loss["source_value"],
            loss["target_value"],
        )
        for loss in record["losses"]
    )
    return Translation(record["source_version"], record["target_version"], body, losses)


def _round_trip(kind: str, original: dict[str, Any]) -> None:
    table = _network()
    service, _, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"), table
    )
    service.deliverer, service.owner_facts = MirrorPlatform(), OwnerFacts()
    module = {"Location": "locations", "Tariff": "tariffs"}[kind]
    object_id = original["id"]
    pushed = asyncio.run(
        service.handle(
            _request(
                table, CPO_221, EMSP_211, "PUT", module, "RECEIVER",
                f"/NL/{CPO_221.party_id}/{object_id}", json.dumps(original).encode(),
            )
        )
    )  # fmt: skip
    if pushed.http_status == 400:
        message = json.loads(pushed.body)["status_message"]
        assert any(f"({reason})" in message for reason in REFUSALS[kind]), message
        return
    assert json.loads(pushed.body)["status_code"] == 1000, pushed.body
    path = f"/{object_id}" if kind == "Location" else ""
    read = asyncio.run(
        service.handle(_request(table, EMSP_221, CPO_211, "GET", module, "SENDER", path))
    )
    back_body = json.loads(read.body)["data"]
    if kind == "Tariff":
        (back_body,) = back_body
    # The owner ids come back as the hub knows them: the 2.1.1 party that served the object.
    _assert_came_back(kind, original, recorder, RoutedMessage.Answered, back_body)


def _assert_came_back(
    kind: str, original: dict[str, Any], recorder: FakeRecorder, way_back: type, back_body: Any
) -> None:
    """`back_body` (with the owner ids of the 2.1.1 CPO) is `original` up to what the loss
    report of the push down names, the way back recorded on the second `way_back` event."""
    assert (back_body["country_code"], back_body["party_id"]) == ("NL", CPO_211.party_id)
    back_body.update(country_code=original["country_code"], party_id=original["party_id"])
    there = _translation(recorder, RoutedMessage.Forwarded, 0, original)
    back = _translation(recorder, way_back, 1, back_body)
    assert (there.source, there.target, back.source, back.target) == (
        "2.2.1", "2.1.1", "2.1.1", "2.2.1"
    )  # fmt: skip
    assert_round_trip(kind, original, there, back)


def _drawn(data: st.DataObject, kind: str) -> dict[str, Any]:
    """A 2.2.1 object of the 2.2.1 CPO, with an id every version can carry."""
    original: dict[str, Any] = data.draw(objects("2.2.1", kind))
    original.update(country_code="NL", party_id=CPO_221.party_id)
    original["id"] = data.draw(st.text("ABCDEFGH0123456789", min_size=1, max_size=12))
    return original


@pytest.mark.parametrize("kind", ["Location", "Tariff"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_2_2_1_object_routed_through_a_2_1_1_party_comes_back_with_every_change_reported(
    kind: str, data: st.DataObject
) -> None:
    original = _drawn(data, kind)
    _round_trip(kind, original)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    ["id", "type", "evses", "connectors", "standard", "token", "uid", "auth_id", "location",
     "time_zone", "coordinates", "elements", "price_components", "last_updated", "response_url"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(_FIELDS, _JSON, max_size=6) | _JSON,
    route=st.sampled_from(
        [
            ("locations", "RECEIVER", "PUT", "/NL/CPA/L1", CPO_221, EMSP_211),
            ("tariffs", "RECEIVER", "PUT", "/NL/CPA/T1", CPO_221, EMSP_211),
            ("locations", "RECEIVER", "PUT", "/NL/CPD/L1/E1", CPO_211, EMSP_221),
        ]
    ),
)
def test_whatever_a_peer_sends_across_versions_is_forwarded_or_refused_never_a_hub_fault(
    body: Any, route: tuple[str, str, str, str, PartyKey, PartyKey]
) -> None:
    module, interface, method, path, sender, receiver = route
    table = _network()
    service, deliverer, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"), table
    )
    service.owner_facts = OwnerFacts()
    request = _request(
        table, sender, receiver, method, module, interface, path, json.dumps(body).encode()
    )

    answer = asyncio.run(service.handle(request))

    status = json.loads(answer.body)["status_code"]
    assert (answer.http_status, status) in ((200, 1000), (400, 2001)), answer.body
    names = [type(e).__name__ for e in recorder.events]
    assert ("Refused" in names) == (status == 2001) and names[-1] == "Responded"
    assert len(deliverer.deliveries) == (1 if status == 1000 else 0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_JSON)
def test_whatever_a_2_1_1_receiver_answers_reaches_the_requester_never_a_hub_fault(
    data: Any,
) -> None:
    table = _network()
    service, _, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"), table
    )
    mirror = MirrorPlatform()
    mirror.held = json.dumps(data).encode()
    service.deliverer = mirror
    request = _request(table, EMSP_221, CPO_211, "GET", "locations", "SENDER", "/L1")

    answer = asyncio.run(service.handle(request))

    assert answer.http_status == 200 and json.loads(answer.body)["status_code"] == 1000
    (answered,) = [e for e in recorder.events if isinstance(e, RoutedMessage.Answered)]
    assert answered.translation["source_version"] == "2.1.1"


class Unreachable:
    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        return DeliveryFailed(HubError.CONNECTION_PROBLEM, "connection refused", 1.0)

    async def aclose(self) -> None:
        pass


def test_a_2_1_1_requester_gets_a_status_code_its_version_has_for_a_hub_error() -> None:
    table = _network()
    service, _, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"), table
    )
    service.deliverer = Unreachable()
    request = _request(table, EMSP_211, CPO_221, "GET", "locations", "SENDER", "/L1")
    request = dataclasses.replace(request, version="2.1.1")

    answer = json.loads(asyncio.run(service.handle(request)).body)

    assert answer["status_code"] == 3000
    assert "(hub error 4003; OCPI 2.1.1 has no hub status codes)" in answer["status_message"]
    (failed,) = [e for e in recorder.events if isinstance(e, RoutedMessage.Failed)]
    assert failed.status_code == 4003  # the leg's own record keeps the hub's code
    (responded,) = [e for e in recorder.events if isinstance(e, RoutedMessage.Responded)]
    assert responded.ocpi_status == 3000


class StoredLocations:
    """The hub object store as the version bridge reads it: the CPO's locations it holds."""

    def __init__(self) -> None:
        self.held: dict[ObjectKey, bytes] = {}

    def get(self, key: ObjectKey) -> bytes | None:
        return self.held.get(key)

    def pushed(self, position: int) -> None:
        pass


def _push_from_211(
    table: InMemoryRoutingTable, method: str, module: str, path: str, body: bytes
) -> InboundRequest:
    """The 2.1.1 CPO pushes what it holds: no routing headers, routed by its auth_id."""
    connection = table.connection(f"conn-{CPO_211.party_id}")
    assert connection is not None
    headers = {"content-type": "application/json"}
    return InboundRequest(
        connection, module, "RECEIVER", method, path, "", headers, body, version="2.1.1"
    )


def _session_or_cdr_round_trip(kind: str, original: dict[str, Any], location: Any) -> None:
    """A 2.2.1 CPO's session or CDR to a 2.1.1 eMSP (translated down with the hub's stored
    location), then the same 2.1.1 object pushed by a 2.1.1 CPO, routed by its auth_id to the
    2.2.1 eMSP owning the token (translated up): the way back is the routed 2.1.1 push."""
    table = _network()
    service, _, recorder = service_with_fakes(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"), table
    )
    mirror, stored = MirrorPlatform(), StoredLocations()
    service.deliverer, service.owner_facts = mirror, OwnerFacts()
    service.objects = service.bridge.objects = stored  # type: ignore[assignment]
    if location is not None:
        owner = PartyRef("NL", CPO_221.party_id)
        key = ObjectKey("locations", owner, location["id"])
        stored.held[key] = json.dumps(location).encode()
    module, method = ("sessions", "PUT") if kind == "Session" else ("cdrs", "POST")
    path = f"/NL/{CPO_221.party_id}/{original['id']}" if kind == "Session" else ""
    body = json.dumps(original).encode()
    pushed = asyncio.run(
        service.handle(_request(table, CPO_221, EMSP_211, method, module, "RECEIVER", path, body))
    )
    if pushed.http_status == 400:
        message = json.loads(pushed.body)["status_message"]
        assert any(f"({reason})" in message for reason in REFUSALS_TO_211[kind]), message
        return
    assert json.loads(pushed.body)["status_code"] == 1000, pushed.body
    down = json.loads(mirror.held)
    auth_id = down["auth_id"]
    service.owners.learn(OwnerFact(CONTRACT, auth_id, PartyRef("NL", EMSP_221.party_id)))
    back_path = f"/NL/{CPO_211.party_id}/{original['id']}" if kind == "Session" else ""
    again = asyncio.run(
        service.handle(_push_from_211(table, method, module, back_path, mirror.held))
    )
    assert json.loads(again.body)["status_code"] == 1000, again.body
    back_body = json.loads(mirror.held)
    # Owner ids and the token come back as the hub knows them: the 2.1.1 CPO that pushed,
    # the eMSP owning auth_id (its CdrToken built from it, digest §3).
    _assert_came_back(kind, original, recorder, RoutedMessage.Forwarded, back_body)


@pytest.mark.parametrize("kind", ["Session", "Cdr"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_2_2_1_session_or_cdr_through_a_2_1_1_party_comes_back_with_every_change_reported(
    kind: str, data: st.DataObject
) -> None:
    original = _drawn(data, kind)
    if kind == "Session":
        location = data.draw(_stored_location_for(original))
    else:
        at = original["cdr_location"]
        names = {"connector_id": at["connector_id"], "evse_uid": at["evse_uid"],
                 "location_id": at["id"]}  # fmt: skip
        location = data.draw(_stored_location_for(names)) if data.draw(st.booleans()) else None
    _session_or_cdr_round_trip(kind, original, location)
