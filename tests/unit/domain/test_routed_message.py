import dataclasses
import json

import pytest

from domain.errors import MessageStateError
from domain.messages import RoutedMessage, message_id


def received(request_id: str = "req-1", attempt: int = 0) -> RoutedMessage:
    return RoutedMessage(
        sender_scope="conn-1",
        request_id=request_id,
        attempt=attempt,
        correlation_id="corr-1",
        connection_id="conn-1",
        method="PUT",
        path="/ocpi/2.2.1/locations/receiver/NL/CPO/LOC1",
        query="",
        module="locations",
        interface="RECEIVER",
        headers={"x-request-id": request_id},
        body_sha256="ab" * 32,
        body_size=10,
        from_party="NL*CPO",
        to_party="NL*EMS",
    )


def test_the_same_request_id_from_the_same_sender_is_the_same_message() -> None:
    assert received().id == received().id == message_id("conn-1", "req-1")
    assert received(attempt=1).id != received().id


def test_a_message_is_routed_forwarded_answered_and_responded_in_order() -> None:
    message = received()
    message.route("DIRECT", ["NL*EMS"], "to-party header")
    message.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "new-id", {}, None, 0)
    message.record_answer(0, 200, 1000, 12.5, {}, None, 0)
    message.respond(200, 1000, 14.0, {}, None, 0)
    names = [type(e).__name__ for e in message.collect_events()]
    assert names == ["Received", "Routed", "Forwarded", "Answered", "Responded"]


def test_an_answer_for_a_leg_never_forwarded_is_refused() -> None:
    with pytest.raises(MessageStateError, match="never forwarded"):
        received().record_answer(3, 200, 1000, 1.0, {}, None, 0)


def test_a_leg_has_one_outcome() -> None:
    message = received()
    message.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "new-id", {}, None, 0)
    message.record_failure(0, 4002, "timeout", 10000.0)
    with pytest.raises(MessageStateError, match="already has an outcome"):
        message.record_answer(0, 200, 1000, 1.0, {}, None, 0)


def test_a_translated_leg_and_answer_carry_their_loss_report_and_others_do_not_store_one() -> None:
    from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

    report = {
        "source_version": "2.1.1",
        "target_version": "2.2.1",
        "losses": [{"path": "publish", "kind": "defaulted", "source_value": None,
                    "target_value": True}],
    }  # fmt: skip
    message = received()
    message.route("BROADCAST", ["NL*EMS", "NL*EMT"], "2.1.1 push")
    message.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "id-0", {}, None, 0, report)
    message.forward(1, "NL*EMT", "conn-3", "http://emsp2/loc", "id-1", {}, None, 0)
    message.record_answer(0, 200, 1000, 1.0, {}, None, 0, translation=report)
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    mapper: Mapper = Mapper(transcoder=transcoder)
    stored = [mapper.to_stored_event(e) for e in message.collect_events()]
    _, _, translated, plain, answered = [mapper.to_domain_event(s) for s in stored]

    assert translated.translation == report and answered.translation == report
    assert plain.translation is None  # sent as received
    # a record made before the field existed reads None
    old_state = json.loads(stored[3].state)
    del old_state["translation"]
    old = dataclasses.replace(stored[3], state=json.dumps(old_state).encode())
    assert mapper.to_domain_event(old).translation is None
