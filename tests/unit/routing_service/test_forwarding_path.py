"""The forwarding path with fakes: no request reaches past the receiver's endpoint, ambiguous
routing headers are refused, an inferred sender is used for every step, and once a request is
forwarded the requester always gets an answer and the ledger its outcome."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.bodies import Body
from application.callbacks import HubLink
from application.delivery import Delivered, Delivery, DeliveryOutcome
from application.owner_index import InMemoryOwnerIndex
from application.routing import Answer, InboundRequest, RoutingConfig, RoutingService
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.messages import RoutedMessage
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role
from tests.recorded import steps

EMSP = PartyKey("NL", "EMA", Role.EMSP)
CPO = PartyKey("NL", "CPA", Role.CPO)
HUB = PartyRef("NL", "HUB")
MODULES = ("locations", "sessions", "cdrs", "tariffs", "tokens", "commands", "chargingprofiles")
OK = b'{"status_code":1000,"timestamp":"2024-01-01T00:00:00Z"}'


def endpoint(connection_id: str, module: str, interface: str) -> str:
    return f"https://{connection_id}.example.com/ocpi/2.2.1/{module}/{interface.lower()}"


def peer(connection_id: str, party: PartyKey) -> ConnectionEntry:
    return ConnectionEntry(
        id=connection_id,
        label=connection_id,
        initiated_by="peer",
        status=ConnectionStatus.CONNECTED,
        endpoints=tuple(
            (module, interface, endpoint(connection_id, module, interface))
            for module in MODULES
            for interface in ("SENDER", "RECEIVER")
        ),
        roles=(party,),
        inbound_token_hash=f"hash-{connection_id}",
        outbound_token=f"token-{connection_id}",
    )


def network() -> InMemoryRoutingTable:
    table = InMemoryRoutingTable()
    for connection_id, party in (("emsp", EMSP), ("cpo", CPO)):
        table.put_connection(peer(connection_id, party))
        table.put_party(f"p-{connection_id}", party, {}, "")
        table.put_route(
            f"p-{connection_id}", connection_id, "direct", ConnectionStatus.CONNECTED, None, ""
        )
    return table


class Receiver:
    """A deliverer that answers like a receiver would, or fails as the test asks."""

    def __init__(self, headers: dict[str, str] | None = None, fault: Exception | None = None):
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.fault = fault
        self.deliveries: list[Delivery] = []

    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        self.deliveries.append(delivery)
        if self.fault is not None:
            raise self.fault
        return Delivered(200, dict(self.headers), OK, 1.0)

    async def aclose(self) -> None:
        pass


class Links:
    """An in-memory link store whose calls can be made to fail."""

    def __init__(self, failing: Sequence[str] = ()) -> None:
        self.failing = set(failing)
        self.links: dict[str, HubLink] = {}

    def _maybe_fail(self, call: str) -> None:
        if call in self.failing:
            raise OSError(f"link store {call} failed")

    def put(self, link: HubLink) -> None:
        self._maybe_fail("put")
        self.links[link.id] = link

    def get(self, link_id: str) -> HubLink | None:
        self._maybe_fail("get")
        return self.links.get(link_id)

    def extend(self, link_id: str, expires_at: datetime) -> None:
        self._maybe_fail("extend")


class Ledger:
    """A recorder that keeps every event; `outcome_fails` breaks every commit after the
    first (the admission), awaited or queued behind the answer."""

    def __init__(self, outcome_fails: bool = False) -> None:
        self.events: list[Any] = []
        """The steps recorded (domain.message_steps), in order."""
        self.stored: list[Any] = []
        """The events as stored (two per routed message)."""
        self.outcome_fails = outcome_fails
        self.commits = 0

    async def record(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> int:
        self.commits += 1
        if self.outcome_fails and self.commits > 1:
            raise OSError("the outcome commit failed")
        for message in messages:
            self.events.extend(steps(message, self.stored))
        return len(self.events)

    def record_behind(self, *messages: RoutedMessage, bodies: Sequence[Body] = ()) -> None:
        if self.outcome_fails:
            raise OSError("the outcome commit failed")
        for message in messages:
            self.events.extend(steps(message, self.stored))

    def names(self) -> list[str]:
        return [type(event).__name__ for event in self.events]

    def named(self, name: str) -> Any:
        (event,) = [event for event in self.events if type(event).__name__ == name]
        return event


class PushedPositions:
    """The hub object store as a broadcast sees it: told which ledger position holds a push."""

    def __init__(self) -> None:
        self.positions: list[int] = []

    def pushed(self, position: int) -> None:
        self.positions.append(position)


class RepeatedHeaders(Mapping[str, str]):
    """Headers as they arrive on the wire: a name may come more than once (as Starlette's)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __getitem__(self, name: str) -> str:
        for key, value in self.pairs:
            if key.lower() == name.lower():
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(key for key, _ in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self.pairs)


def service(
    receiver: Receiver | None = None, links: Links | None = None, ledger: Ledger | None = None
) -> tuple[RoutingService, Receiver, Links, Ledger]:
    receiver, links, ledger = receiver or Receiver(), links or Links(), ledger or Ledger()

    async def inline(function: Any, *args: Any) -> Any:
        return function(*args)

    routing = RoutingService(
        RoutingConfig(hub=HUB, base_url="https://hub.example.com"),
        network(),
        ledger,
        receiver,
        links=links,
        objects=PushedPositions(),  # type: ignore[arg-type]
        owners=InMemoryOwnerIndex(),
        owner_facts=None,  # type: ignore[arg-type]
        blocking=inline,
    )
    return routing, receiver, links, ledger


def request(
    routing: RoutingService,
    module: str,
    interface: str,
    method: str,
    path: str,
    *,
    sender: PartyKey = EMSP,
    to: PartyKey | None = CPO,
    with_from: bool = True,
    body: bytes = b"",
    query: str = "",
    headers: Mapping[str, str] | None = None,
) -> InboundRequest:
    sent: dict[str, str] = {"x-request-id": "req-1", "x-correlation-id": "corr-1"}
    if with_from:
        sent.update({"ocpi-from-country-code": "NL", "ocpi-from-party-id": sender.party_id})
    if to is not None:
        sent.update({"ocpi-to-country-code": "NL", "ocpi-to-party-id": to.party_id})
    if body:
        sent["content-type"] = "application/json"
    connection = routing.table.connection("emsp" if sender == EMSP else "cpo")
    assert connection is not None
    return InboundRequest(
        connection=connection,
        module=module,
        interface=interface,
        method=method,
        path=path,
        query=query,
        headers=headers if headers is not None else sent,
        body=body,
    )


def handle(routing: RoutingService, inbound: InboundRequest) -> Answer:
    return asyncio.run(routing.handle(inbound))


def status_of(answer: Answer) -> int:
    return int(json.loads(answer.body)["status_code"])


# ---- no request reaches past the receiver's endpoint ------------------------------------------

HOSTILE_PATHS = [
    ("locations", "SENDER", "GET", "/../../credentials"),
    ("locations", "SENDER", "GET", "/.."),
    ("locations", "SENDER", "GET", "/%2e%2e/%2E%2e/credentials"),
    ("locations", "SENDER", "GET", "/.%2e/credentials"),
    ("locations", "SENDER", "GET", "/LOC1/%2e"),
    ("locations", "SENDER", "GET", "/LOC1%2F..%2F..%2Fcredentials"),
    ("locations", "SENDER", "GET", "/LOC1%5C..%5C..%5Ccredentials"),
    ("locations", "SENDER", "GET", "/%252e%252e/credentials"),
    ("locations", "SENDER", "GET", "/LOC1%3Fa=b"),
    ("locations", "SENDER", "GET", "/LOC1%23x"),
    ("locations", "SENDER", "GET", "/LOC%00"),
    ("sessions", "RECEIVER", "PUT", "/NL/EMA/.."),
    ("sessions", "RECEIVER", "PUT", "/NL/EMA/%2E"),
    ("tariffs", "RECEIVER", "PUT", "/NL/EMA/T1/../../../credentials"),
    ("x-custom", "RECEIVER", "GET", "/a/../../../credentials"),
    ("x-custom", "RECEIVER", "GET", "/a/%2e%2e/%2e%2e"),
]


@pytest.mark.parametrize(("module", "interface", "method", "path"), HOSTILE_PATHS)
def test_a_path_that_could_leave_the_receivers_endpoint_is_refused_on_record(
    module: str, interface: str, method: str, path: str
) -> None:
    routing, receiver, _, ledger = service()
    body = b'{"id": "x"}' if method == "PUT" else b""
    answer = handle(routing, request(routing, module, interface, method, path, body=body))

    assert receiver.deliveries == []
    assert status_of(answer) == 2001
    assert ledger.names() == ["Received", "Refused", "Responded"]
    assert ledger.named("Received").path == path


@pytest.mark.parametrize(
    ("path", "forwarded"),
    [
        ("/LOC1", "/LOC1"),
        ("/LOC%2D1", "/LOC-1"),
        ("/L;1", "/L%3B1"),
        ("/LOC1/", "/LOC1/"),
        ("/LOC1/EVSE%2A1", "/LOC1/EVSE*1"),
    ],
)
def test_the_forwarded_path_is_rebuilt_from_the_checked_segments(path: str, forwarded: str) -> None:
    routing, receiver, _, _ = service()
    handle(routing, request(routing, "locations", "SENDER", "GET", path))
    (delivery,) = receiver.deliveries
    assert delivery.url == endpoint("cpo", "locations", "SENDER") + forwarded


SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "%2e",
        "%2E%2e",
        ".%2e",
        "%2F",
        "a%2Fb",
        "%5C",
        "%25",
        "%252e%252e",
        "",
        "NL",
        "EMA",
        "CPA",
        "LOC1",
        "E1",
        "1",
        "S1",
        ";",
        "..;",
        "%3B",
        "%00",
        "~",
        "!",
        "a b",
        "credentials",
        "%3F",
        "%23",
        "x-y",
        "%C3%A9",
        "%FF",
        "START_SESSION",
        "authorize",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    target=st.sampled_from(
        [
            ("locations", "SENDER", "GET"),
            ("locations", "RECEIVER", "PUT"),
            ("sessions", "RECEIVER", "PATCH"),
            ("tariffs", "RECEIVER", "DELETE"),
            ("tokens", "SENDER", "POST"),
            ("commands", "RECEIVER", "POST"),
            ("x-custom", "RECEIVER", "PUT"),
        ]
    ),
    segments=st.lists(SEGMENTS, max_size=6),
    trailing=st.booleans(),
    query=st.sampled_from(
        ["", "type=RFID", "a=%2e%2e/x", "limit=1&offset=0", 'a="x"', "a=<b>", "a={1}", "a=|^`"]
    ),
)
def test_no_path_reaches_outside_the_receivers_endpoint_and_none_gets_a_5xx(
    target: tuple[str, str, str], segments: list[str], trailing: bool, query: str
) -> None:
    module, interface, method = target
    path = "/" + "/".join(segments) + ("/" if trailing and segments else "")
    routing, receiver, _, ledger = service()
    body = b'{"response_url": "https://emsp.example.com/cb/1"}' if method != "GET" else b""
    answer = handle(
        routing, request(routing, module, interface, method, path, body=body, query=query)
    )

    assert answer.http_status < 500
    assert "Responded" in ledger.names()
    for delivery in receiver.deliveries:
        published = urlsplit(endpoint("cpo", module, interface)).path
        sent = urlsplit(delivery.url).path
        assert sent == published or sent.startswith(published + "/"), (path, delivery.url)
        rest = sent[len(published) :].split("/")[1:]
        assert all(unquote(part) not in (".", "..") for part in rest), (path, delivery.url)
        assert all("/" not in unquote(part) and "\\" not in unquote(part) for part in rest)
        # and the HTTP client sends exactly that URL: nothing it would re-encode got through
        parts = urlsplit(delivery.url)
        built = parts.path + (f"?{parts.query}" if parts.query else "")
        assert httpx.URL(delivery.url).raw_path.decode() == built, delivery.url


# ---- routing headers: one value each -----------------------------------------------------------


def test_two_different_values_of_one_routing_header_are_refused_and_nothing_is_sent() -> None:
    routing, receiver, _, ledger = service()
    headers = RepeatedHeaders(
        [
            ("OCPI-from-country-code", "NL"),
            ("OCPI-from-party-id", "EMA"),
            ("OCPI-to-country-code", "NL"),
            ("OCPI-to-party-id", "CPA"),
            ("ocpi-to-party-id", "EMA"),
            ("X-Request-ID", "dup-1"),
        ]
    )
    answer = handle(routing, request(routing, "tariffs", "SENDER", "GET", "", headers=headers))

    assert receiver.deliveries == []
    assert status_of(answer) == 2001
    assert "ocpi-to-party-id is given more than once" in json.loads(answer.body)["status_message"]
    assert ledger.names() == ["Received", "Refused", "Responded"]
    assert ledger.named("Received").request_id == "dup-1"


@pytest.mark.parametrize("name", ["OCPI-from-party-id", "X-Request-ID", "Authorization"])
def test_any_single_valued_header_given_twice_differently_is_refused(name: str) -> None:
    routing, receiver, _, _ = service()
    pairs = [
        ("OCPI-from-country-code", "NL"),
        ("OCPI-from-party-id", "EMA"),
        ("OCPI-to-country-code", "NL"),
        ("OCPI-to-party-id", "CPA"),
        ("X-Request-ID", "dup-2"),
        ("Authorization", "Token abc"),
        (name.upper(), "XYZ"),
    ]
    answer = handle(
        routing, request(routing, "tariffs", "SENDER", "GET", "", headers=RepeatedHeaders(pairs))
    )
    assert receiver.deliveries == [] and status_of(answer) == 2001


def test_a_routing_header_repeated_with_the_same_value_is_accepted() -> None:
    routing, receiver, _, _ = service()
    pairs = [
        ("OCPI-from-country-code", "NL"),
        ("OCPI-from-party-id", "EMA"),
        ("OCPI-to-country-code", "NL"),
        ("OCPI-to-party-id", "CPA"),
        ("ocpi-to-party-id", "CPA"),
        ("X-Request-ID", "same-1"),
    ]
    answer = handle(
        routing, request(routing, "tariffs", "SENDER", "GET", "", headers=RepeatedHeaders(pairs))
    )
    assert status_of(answer) == 1000
    (delivery,) = receiver.deliveries
    assert delivery.headers["ocpi-to-party-id"] == "CPA"


# ---- an inferred sender is the sender for every step -----------------------------------------


def test_a_push_without_ocpi_from_is_relayed_to_the_inferred_sender_and_recorded_as_inferred() -> (
    None
):
    routing, receiver, _, ledger = service()
    session = b'{"id": "S1", "country_code": "NL", "party_id": "CPA"}'
    inbound = request(
        routing,
        "sessions",
        "RECEIVER",
        "PUT",
        "/NL/CPA/S1",
        sender=CPO,
        to=EMSP,
        with_from=False,
        body=session,
    )
    answer = handle(routing, inbound)

    assert answer.http_status == 200 and status_of(answer) == 1000
    assert (answer.headers["ocpi-to-country-code"], answer.headers["ocpi-to-party-id"]) == (
        "NL",
        "CPA",
    )
    (delivery,) = receiver.deliveries
    assert delivery.headers["ocpi-from-party-id"] == "CPA"
    received = ledger.named("Received")
    assert received.from_party == str(CPO.ref) and received.sender_inferred is True
    assert ledger.names()[-2:] == ["Answered", "Responded"]


def test_a_command_without_ocpi_from_gets_a_callback_link_for_the_inferred_sender() -> None:
    routing, receiver, links, _ = service()
    command = b'{"response_url": "https://emsp.example.com/cb/1", "token": {}}'
    inbound = request(
        routing, "commands", "RECEIVER", "POST", "/START_SESSION", with_from=False, body=command
    )
    answer = handle(routing, inbound)

    assert status_of(answer) == 1000
    (link,) = links.links.values()
    assert link.requester_party == EMSP.ref and link.original_url == "https://emsp.example.com/cb/1"
    (delivery,) = receiver.deliveries
    assert b"https://hub.example.com/ocpi/2.2.1/commands/sender/" in delivery.body


def test_a_cdr_without_ocpi_from_gets_its_location_mapped_for_the_inferred_sender() -> None:
    upstream = "https://emsp.example.com/ocpi/2.2.1/cdrs/receiver/NL/CPA/CDR1"
    routing, _, links, _ = service(Receiver({"location": upstream}))
    inbound = request(
        routing,
        "cdrs",
        "RECEIVER",
        "POST",
        "",
        sender=CPO,
        to=EMSP,
        with_from=False,
        body=b'{"id": "CDR1"}',
    )
    answer = handle(routing, inbound)

    assert status_of(answer) == 1000
    (link,) = links.links.values()
    assert link.requester_party == CPO.ref
    assert answer.headers["location"].startswith("https://hub.example.com/ocpi/2.2.1/cdrs/")


# ---- never a 500 after forwarding --------------------------------------------------------------


def cdr_post(routing: RoutingService) -> InboundRequest:
    return request(
        routing, "cdrs", "RECEIVER", "POST", "", sender=CPO, to=EMSP, body=b'{"id": "CDR2"}'
    )


def start_session(routing: RoutingService) -> InboundRequest:
    command = b'{"response_url": "https://emsp.example.com/cb/2"}'
    return request(routing, "commands", "RECEIVER", "POST", "/START_SESSION", body=command)


def test_a_cdr_location_that_cannot_be_mapped_still_relays_the_receivers_answer() -> None:
    upstream = "https://emsp.example.com/ocpi/2.2.1/cdrs/receiver/NL/CPA/CDR2"
    receiver = Receiver({"location": upstream})
    routing, _, _, ledger = service(receiver, Links(failing=["put"]))
    answer = handle(routing, cdr_post(routing))

    assert answer.http_status == 200 and answer.body == OK
    assert "location" not in answer.headers  # the receiver's own URL is never relayed
    assert ledger.names()[-2:] == ["Answered", "Responded"]
    assert "Location" in ledger.named("Responded").note


def test_a_callback_link_that_cannot_be_extended_still_relays_the_receivers_answer() -> None:
    receiver = Receiver()
    routing, _, links, ledger = service(receiver)
    original = receiver.deliver

    async def answer_with_timeout(delivery: Delivery) -> DeliveryOutcome:
        await original(delivery)
        links.failing.add("extend")
        body = b'{"data":{"result":"ACCEPTED","timeout":86400},"status_code":1000}'
        return Delivered(200, {"content-type": "application/json"}, body, 1.0)

    receiver.deliver = answer_with_timeout  # type: ignore[method-assign]
    answer = handle(routing, start_session(routing))

    assert answer.http_status == 200 and status_of(answer) == 1000
    assert ledger.names()[-2:] == ["Answered", "Responded"]
    assert "extend failed" in ledger.named("Responded").note


def test_a_routed_message_is_stored_as_two_events_admitted_before_forwarding() -> None:
    routing, receiver, _, ledger = service()
    admitted_when_sent: list[list[str]] = []
    deliver = receiver.deliver

    async def deliver_after_admission(delivery: Any) -> Any:
        admitted_when_sent.append([type(e).__name__ for e in ledger.stored])
        return await deliver(delivery)

    receiver.deliver = deliver_after_admission  # type: ignore[method-assign]
    answer = handle(routing, request(routing, "tariffs", "SENDER", "GET", ""))

    assert answer.http_status == 200
    assert admitted_when_sent == [["Admitted"]]
    assert [type(e).__name__ for e in ledger.stored] == ["Admitted", "Concluded"]
    assert ledger.commits == 2
    assert ledger.names() == ["Received", "Routed", "Forwarded", "Answered", "Responded"]


def test_a_refusal_is_stored_as_one_event() -> None:
    routing, _, _, ledger = service()

    def broken(connection_id: str) -> list[PartyKey]:
        raise RuntimeError("routing table bug")

    routing.table.parties_on_connection = broken  # type: ignore[method-assign]
    handle(routing, request(routing, "tariffs", "SENDER", "GET", ""))
    assert [type(e).__name__ for e in ledger.stored] == ["Admitted"]


def test_an_outcome_commit_that_fails_still_answers_the_requester() -> None:
    routing, receiver, _, ledger = service(ledger=Ledger(outcome_fails=True))
    answer = handle(routing, request(routing, "tariffs", "SENDER", "GET", ""))
    assert answer.http_status == 200 and answer.body == OK
    assert len(receiver.deliveries) == 1
    assert ledger.names() == ["Received", "Routed", "Forwarded"]


def test_a_deliverer_that_raises_is_recorded_as_a_failed_leg_with_a_hub_answer() -> None:
    routing, _, _, ledger = service(Receiver(fault=RuntimeError("bug in the client")))
    answer = handle(routing, request(routing, "tariffs", "SENDER", "GET", ""))

    assert answer.http_status < 500 and status_of(answer) == 4000
    assert "bug in the client" in json.loads(answer.body)["status_message"]
    assert ledger.names() == ["Received", "Routed", "Forwarded", "Failed", "Responded"]


def test_a_fault_before_anything_is_forwarded_is_answered_4000_and_recorded_as_refused() -> None:
    routing, receiver, _, ledger = service()

    def broken(connection_id: str) -> list[PartyKey]:
        raise RuntimeError("routing table bug")

    routing.table.parties_on_connection = broken  # type: ignore[method-assign]
    answer = handle(routing, request(routing, "tariffs", "SENDER", "GET", ""))

    assert receiver.deliveries == []
    assert answer.http_status < 500 and status_of(answer) == 4000
    assert ledger.names() == ["Received", "Refused", "Responded"]
    assert ledger.named("Refused").ocpi_status == 4000  # what the requester got


def test_a_broadcast_leg_whose_deliverer_raises_is_recorded_as_failed() -> None:
    routing, _, _, ledger = service(Receiver(fault=RuntimeError("bug in the client")))
    hub = {"ocpi-to-country-code": "NL", "ocpi-to-party-id": "HUB"}
    sent = {"x-request-id": "b-1", "ocpi-from-country-code": "NL", "ocpi-from-party-id": "CPA"}
    inbound = request(
        routing,
        "locations",
        "RECEIVER",
        "PUT",
        "/NL/CPA/LOC1",
        sender=CPO,
        body=b'{"id": "LOC1"}',
        headers={**sent, **hub, "content-type": "application/json"},
    )

    async def broadcast_and_drain() -> Answer:
        answer = await routing.handle(inbound)
        await routing.drain()
        return answer

    answer = asyncio.run(broadcast_and_drain())

    assert status_of(answer) == 1000  # the originator was answered when the fan-out was recorded
    failed = [e for e in ledger.events if type(e).__name__ == "Failed"]
    assert len(failed) == 1 and "bug in the client" in failed[0].reason
    # The fan-out with the originator's answer, then every leg's outcome in one event.
    assert [type(e).__name__ for e in ledger.stored] == ["Admitted", "Concluded"]
    assert ledger.names()[-2:] == ["Responded", "Failed"]
