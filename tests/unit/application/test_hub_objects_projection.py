"""The hub object store as a ledger projection: which pushes change it, and how (fake writer)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from application.bodies import Body
from application.hub_objects import CaughtUpObjects, HubObjectsProjection, PendingPush
from application.hub_store import ObjectKey, Page
from domain.message_steps import step_events
from domain.messages import Admission, RoutedMessage
from domain.values import PartyRef

OWNER = PartyRef("NL", "CPO")
LOCATION = ObjectKey("locations", OWNER, "L1")


class FakeWriter:
    def __init__(self, bodies: Iterable[Body] = ()) -> None:
        self.bodies = {body.sha256: body.data for body in bodies}
        self.objects: dict[ObjectKey, tuple[bytes, str]] = {}
        self.versions: dict[ObjectKey, str | None] = {}
        self.pushes: dict[str, PendingPush] = {}
        self.gaps: dict[ObjectKey, tuple[str, str]] = {}
        self.preloaded: list[str] = []

    def pending(self, message_id: str) -> PendingPush | None:
        return self.pushes.get(message_id)

    def put_pending(self, message_id: str, push: PendingPush) -> None:
        self.pushes[message_id] = push

    def drop_pending(self, message_id: str) -> None:
        self.pushes.pop(message_id, None)

    def get(self, key: ObjectKey) -> bytes | None:
        found = self.objects.get(key)
        return None if found is None else found[0]

    def put(
        self, key: ObjectKey, document: bytes, last_updated: str, version: str | None = None
    ) -> None:
        self.objects[key] = (document, last_updated)
        self.versions[key] = version
        self.gaps.pop(key, None)

    def delete(self, key: ObjectKey) -> None:
        self.objects.pop(key, None)
        self.gaps.pop(key, None)

    def lost(self, key: ObjectKey, message_id: str, body_sha256: str) -> None:
        self.objects.pop(key, None)
        self.gaps[key] = (message_id, body_sha256)

    def body(self, sha256: str) -> bytes | None:
        return self.bodies.get(sha256)

    def preload_bodies(self, hashes: Iterable[str]) -> None:
        self.preloaded += list(hashes)


def push(
    request_id: str,
    body: bytes | None,
    *,
    method: str = "PUT",
    path: str = "/NL/CPO/L1",
    module: str = "locations",
    classification: str = "BROADCAST",
    answer: tuple[int, int] = (200, 1000),
    refuse: bool = False,
) -> tuple[list[Any], Body | None]:
    """The events the hub records for one push, and its body."""
    request = Body.of(body) if body is not None else None
    admission = Admission(
        sender_scope="conn-cpo",
        request_id=request_id,
        attempt=0,
        correlation_id=f"corr-{request_id}",
        connection_id="conn-cpo",
        method=method,
        path=path,
        query="",
        module=module,
        interface="RECEIVER",
        headers={},
        body_sha256=request.sha256 if request else None,
        body_size=request.size if request else 0,
        from_party="NL*CPO",
        to_party="NL*HUB",
    )
    if refuse:
        admission.refuse(400, 2001, "spoofed")
    else:
        admission.route(classification, [], "why")
    admission.respond(answer[0], answer[1], 1.0, {}, None, 0)
    message = RoutedMessage.admit(admission)
    return [step for e in message.collect_events() for step in step_events(e)], request


def run(*pushes: tuple[list[Any], Body | None], writer: FakeWriter | None = None) -> FakeWriter:
    if writer is None:
        writer = FakeWriter(body for _, body in pushes if body is not None)
    events = [event for pushed, _ in pushes for event in pushed]
    projection = HubObjectsProjection()
    projection.prepare(events, writer)
    for event in events:
        projection.process(event, writer)
    return writer


def location(stamp: str = "2024-01-01T00:00:00Z", status: str = "AVAILABLE") -> bytes:
    document = {"id": "L1", "evses": [{"uid": "E1", "status": status, "last_updated": stamp}]}
    document["last_updated"] = stamp  # type: ignore[assignment]
    return json.dumps(document).encode()


def test_an_answered_broadcast_put_stores_the_pushed_bytes() -> None:
    writer = run(push("p1", location()))
    assert writer.objects == {LOCATION: (location(), "2024-01-01T00:00:00.000000Z")}
    assert writer.pushes == {}


def test_an_evse_patch_after_the_put_changes_the_stored_location() -> None:
    patch = b'{"status": "CHARGING", "last_updated": "2024-02-01T00:00:00Z"}'
    writer = run(push("p1", location()), push("p2", patch, method="PATCH", path="/NL/CPO/L1/E1"))
    document = json.loads(writer.objects[LOCATION][0])
    assert document["evses"][0]["status"] == "CHARGING"
    assert writer.objects[LOCATION][1] == "2024-02-01T00:00:00.000000Z"


def test_pushes_that_were_not_broadcasts_or_not_accepted_change_nothing() -> None:
    writer = run(
        push("direct", location(), classification="DIRECT"),
        push("refused", location(), refuse=True),
        push("failed", location(), answer=(200, 2001)),
        push("not json object", b"[1]"),
        push("no date", b'{"id": "L1"}'),
    )
    assert writer.objects == {} and writer.pushes == {}


def test_a_delete_removes_the_object_and_a_get_is_never_a_push() -> None:
    tariff = ObjectKey("tariffs", OWNER, "T1")
    stamp = b'{"id": "T1", "last_updated": "2024-01-01T00:00:00Z"}'
    writer = run(push("put", stamp, module="tariffs", path="/NL/CPO/T1"))
    assert tariff in writer.objects
    run(
        push("get", None, method="GET", module="tariffs", path="/NL/CPO/T1"),
        writer=writer,
    )
    assert tariff in writer.objects
    run(push("delete", None, method="DELETE", module="tariffs", path="/NL/CPO/T1"), writer=writer)
    assert writer.objects == {}


def test_a_push_split_across_two_batches_is_applied_when_its_answer_arrives() -> None:
    events, body = push("p1", location())
    assert body is not None
    writer = FakeWriter([body])
    projection = HubObjectsProjection()
    for batch in (events[:2], events[2:]):  # Received + Routed, then Responded
        projection.prepare(batch, writer)
        for event in batch:
            projection.process(event, writer)
        if batch is events[:2]:
            assert writer.pushes[str(events[0].originator_id)].broadcast
            assert writer.objects == {}
    assert LOCATION in writer.objects


def test_bodies_of_the_batchs_broadcasts_are_loaded_in_one_go() -> None:
    writer = run(push("p1", location()), push("p2", location(), classification="DIRECT"))
    assert writer.preloaded == [Body.of(location()).sha256]


def test_a_redacted_body_drops_the_object_as_a_gap_until_the_next_whole_put() -> None:
    patch = b'{"status": "CHARGING", "last_updated": "2024-02-01T00:00:00Z"}'
    writer = FakeWriter([Body.of(location()), Body.of(patch)])  # p2's body was redacted
    run(push("p1", location()), push("p2", location("2024-01-15T00:00:00Z")), writer=writer)
    assert writer.objects == {}
    assert writer.gaps[LOCATION][1] == Body.of(location("2024-01-15T00:00:00Z")).sha256

    run(push("p3", patch, method="PATCH", path="/NL/CPO/L1/E1"), writer=writer)
    assert writer.objects == {}  # nothing to patch: the hub does not know the location now

    newer = location("2024-03-01T00:00:00Z")
    writer.bodies[Body.of(newer).sha256] = newer
    run(push("p4", newer), writer=writer)
    assert writer.objects[LOCATION][0] == newer and writer.gaps == {}


class Progress:
    def __init__(self, position: int) -> None:
        self.position = position
        self.waited: list[int] = []
        self.woken = 0

    def wake(self, _position: int = 0) -> None:
        self.woken += 1

    def wait(self, position: int, timeout: float = 5.0) -> None:
        self.waited.append(position)
        self.position = position


class View:
    def get(self, key: ObjectKey) -> bytes | None:
        return None

    def get_versioned(self, key: ObjectKey) -> tuple[bytes, str] | None:
        return None

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page:
        return Page([], 0)


def test_reads_wait_only_while_the_projection_is_behind_this_nodes_last_push() -> None:
    progress = Progress(10)
    objects = CaughtUpObjects(View(), progress, recorded=8)
    objects.page("locations", None, None, 0, 10)
    assert progress.waited == []
    objects.pushed(12)
    objects.pushed(11)  # an older commit settling later does not lower the mark
    assert progress.woken == 2  # each push wakes the runner, which no other commit does
    objects.get(LOCATION)
    objects.page("locations", None, None, 0, 10)
    assert progress.waited == [12]


def test_a_projection_that_cannot_catch_up_fails_the_read() -> None:
    class Stuck(Progress):
        def wait(self, position: int, timeout: float = 5.0) -> None:
            raise TimeoutError("stuck")

    objects = CaughtUpObjects(View(), Stuck(0), recorded=3)
    with pytest.raises(TimeoutError):
        objects.page("locations", None, None, 0, 10)
