"""The ledger's orjson transcoder writes the JSON the library's transcoder reads, and reads
what it wrote: records of either kind decode to the same events."""

import dataclasses
import typing
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, Transcoder
from freezegun import freeze_time

from domain.messages import Admission, RoutedMessage
from domain.retention import BodyRedaction
from infrastructure.transcoding import MroJSONTranscoder, OrjsonTranscoder


def transcoder(kind: type[MroJSONTranscoder]) -> Transcoder:
    chosen = kind()
    app = Application[UUID](env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.register_transcodings(chosen)
    return chosen


def message_events() -> list[Any]:
    admission = Admission(
        sender_scope="c", request_id="r", attempt=0, correlation_id="x", connection_id="c",
        method="PUT", path="/NL/EMA/U1", query="", module="tokens", interface="RECEIVER",
        headers={"x-request-id": "r", "note": 'a "_type_" in a value'}, body_sha256="ab" * 32,
        body_size=40, from_party="NL*EMA", to_party="NL*CPA", adjustments=["é ✓"],
    )  # fmt: skip
    admission.route("DIRECT", ["NL*CPA"], "connected", "direct")
    admission.forward(0, "NL*CPA", "c2", "http://x/", "r2", {}, None, 0, translation={"a": 1})
    message = RoutedMessage.admit(admission)
    message.record_answer(0, 200, 1000, 1.25, {}, "cd" * 32, 60)
    message.respond(200, 1000, 2.5, {}, "cd" * 32, 60)
    redaction = BodyRedaction(body_sha256="ab" * 32, size=40, stored_at="t", retention_days=1.5)
    return [*message.collect_events(), *redaction.collect_events()]


def test_ledger_events_written_by_either_transcoder_read_the_same_with_both() -> None:
    fast = Mapper(transcoder=transcoder(OrjsonTranscoder))
    plain = Mapper(transcoder=transcoder(MroJSONTranscoder))
    for event in message_events():
        for writer in (fast, plain):
            stored = writer.to_stored_event(event)
            for reader in (fast, plain):
                assert vars(reader.to_domain_event(stored)) == vars(event)


def test_nested_wrapped_values_and_fake_datetimes_are_read_back() -> None:
    fast = transcoder(OrjsonTranscoder)
    with freeze_time("2024-03-01T12:00:00Z"):
        state = {"timestamp": datetime.now(UTC), "inner": [{"at": datetime.now(UTC)}]}
        state["amount"] = Decimal("1.10")
    assert fast.decode(fast.encode(state)) == state
    assert fast.decode(transcoder(MroJSONTranscoder).encode(state)) == state


def test_no_ledger_event_holds_a_uuid_which_orjson_would_write_as_a_string() -> None:
    classes = [
        value
        for owner in (RoutedMessage, BodyRedaction)
        for value in vars(owner).values()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
    ]
    assert RoutedMessage.Admitted in classes and BodyRedaction.BodyRedacted in classes
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name != "originator_id":  # not in the stored state
                assert "UUID" not in str(hints[field.name]), f"{cls.__qualname__}.{field.name}"
