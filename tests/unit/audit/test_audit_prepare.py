"""The audit projection reads the bodies of a whole batch in one go, not one query per event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from application.audit import AuditProjection
from domain.message_steps import step_events
from tests.audit_support import routed


class RecordingWriter:
    def __init__(self) -> None:
        self.preloaded: list[list[str]] = []

    def preload_bodies(self, hashes: Iterable[str]) -> None:
        self.preloaded.append(list(hashes))

    def message(self, message_id: str) -> dict[str, Any] | None:
        return None

    def put_message(self, row: dict[str, Any]) -> None: ...
    def add_keys(self, message_id: str, received_us: int, keys: Iterable[str]) -> None: ...
    def body(self, sha256: str) -> bytes | None:
        return None


def test_a_batch_asks_once_for_the_bodies_that_may_name_objects() -> None:
    put = routed("r1", method="PUT", body=b'{"uid":"T1"}')
    get = routed("r2", method="GET", body=None)
    post = routed("r3", method="POST", body=b'{"id":"LOC9"}')
    # As the runner hands them over: each stored event read as its steps.
    events = [
        step
        for s in (put, get, post)
        for e in s.message.collect_events()
        for step in step_events(e)
    ]
    writer = RecordingWriter()

    AuditProjection().prepare(events, writer)

    assert writer.preloaded == [[put.bodies[0].sha256, post.bodies[0].sha256]]
