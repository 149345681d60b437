
import pytest

from domain.errors import MessageStateError
from domain.message_steps import step_events, steps_of
from domain.messages import Admission, RoutedMessage, message_id

RECEIVED = {
    "sender_scope": "conn-1",
    "correlation_id": "corr-1",
    "connection_id": "conn-1",
    "method": "PUT",
    "path": "/ocpi/2.2.1/locations/receiver/NL/CPO/LOC1",
    "query": "",
    "module": "locations",
    "interface": "RECEIVER",
    "body_sha256": "ab" * 32,
    "body_size": 10,
    "from_party": "NL*CPO",
    "to_party": "NL*EMS",
}


def received(request_id: str = "req-1", attempt: int = 0) -> Admission:
    return Admission(
        request_id=request_id, attempt=attempt, headers={"x-request-id": request_id}, **RECEIVED
    )


def forwarded() -> RoutedMessage:
    admission = received()
    admission.route("DIRECT", ["NL*EMS"], "to-party header", "direct")
    admission.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "new-id", {}, None, 0)
    return RoutedMessage.admit(admission)


def test_the_same_request_id_from_the_same_sender_is_the_same_message() -> None:
    first = RoutedMessage.admit(received())
    assert first.id == RoutedMessage.admit(received()).id == message_id("conn-1", "req-1")
    assert RoutedMessage.admit(received(attempt=1)).id != first.id


def test_a_routed_message_is_stored_as_two_events_admitted_then_concluded() -> None:
    message = forwarded()
    admitted = message.collect_events()
    message.record_answer(0, 200, 1000, 12.5, {}, None, 0)
    message.respond(200, 1000, 14.0, {}, None, 0)
    concluded = message.collect_events()
    assert [type(e).__name__ for e in [*admitted, *concluded]] == ["Admitted", "Concluded"]
    assert message.version == 2 and message.outcome == "responded"


def test_the_two_events_read_as_the_five_steps_in_order() -> None:
    message = forwarded()
    message.record_answer(0, 200, 1000, 12.5, {}, None, 0)
    message.respond(200, 1000, 14.0, {}, None, 0)
    steps = [step for event in message.collect_events() for step in step_events(event)]
    assert [type(s).__name__ for s in steps] == [
        "Received",
        "Routed",
        "Forwarded",
        "Answered",
        "Responded",
    ]
    assert [s.originator_version for s in steps] == [1, 1, 1, 2, 2]
    assert isinstance(steps[2], RoutedMessage.Forwarded) and steps[2].url == "http://emsp/loc"
    assert steps[1].via == "direct" and steps[3].latency_ms == 12.5


def test_a_refusal_is_one_event_holding_its_answer() -> None:
    admission = received()
    admission.refuse(404, 2003, "unknown receiver")
    admission.respond(404, 2003, 1.0, {}, None, 0)
    (event,) = RoutedMessage.admit(admission).collect_events()
    assert [name for name, _ in steps_of("Admitted", vars(event))] == [
        "Received",
        "Refused",
        "Responded",
    ]


def test_a_leg_carries_optional_facts_to_its_forwarded_step() -> None:
    admission = received()
    admission.forward(0, "NL*EMS", "c2", "http://e", "id", {}, None, 0, translation={"a": 1})
    admission.forward(1, "NL*EMS", "c2", "http://e", "id", {}, None, 0, translation=None)
    (event,) = RoutedMessage.admit(admission).collect_events()
    legs = [s for s in step_events(event) if isinstance(s, RoutedMessage.Forwarded)]
    assert vars(legs[0])["translation"] == {"a": 1} and "translation" not in vars(legs[1])


def test_a_message_replayed_from_its_two_events_has_its_state() -> None:
    message = forwarded()
    message.record_failure(0, 4002, "timeout", 10000.0)
    message.respond(502, 4002, 10001.0, {}, None, 0)
    events = message.collect_events()
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed is not None
    assert replayed.legs == {0: {"target_party": "NL*EMS", "outcome": "failed"}}
    assert replayed.outcome == "responded" and replayed.via == "direct"


def test_an_answer_for_a_leg_never_forwarded_is_refused() -> None:
    with pytest.raises(MessageStateError, match="never forwarded"):
        RoutedMessage.admit(received()).record_answer(3, 200, 1000, 1.0, {}, None, 0)


def test_a_leg_is_forwarded_once() -> None:
    admission = received()
    admission.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "new-id", {}, None, 0)
    with pytest.raises(MessageStateError, match="already forwarded"):
        admission.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "new-id", {}, None, 0)


def test_a_leg_has_one_outcome() -> None:
    message = forwarded()
    message.record_failure(0, 4002, "timeout", 10000.0)
    with pytest.raises(MessageStateError, match="already has an outcome"):
        message.record_answer(0, 200, 1000, 1.0, {}, None, 0)
    message.collect_events()
    with pytest.raises(MessageStateError, match="already has an outcome"):
        message.record_answer(0, 200, 1000, 1.0, {}, None, 0)


def test_a_translated_leg_and_answer_carry_their_loss_report_and_others_do_not_store_one() -> None:
    report = {
        "source_version": "2.1.1",
        "target_version": "2.2.1",
        "losses": [{"path": "publish", "kind": "defaulted", "source_value": None,
                    "target_value": True}],
    }  # fmt: skip
    admission = received()
    admission.route("BROADCAST", ["NL*EMS", "NL*EMT"], "2.1.1 push")
    admission.forward(0, "NL*EMS", "conn-2", "http://emsp/loc", "id-0", {}, None, 0,
                      translation=report)  # fmt: skip
    admission.forward(1, "NL*EMT", "conn-3", "http://emsp2/loc", "id-1", {}, None, 0)
    message = RoutedMessage.admit(admission)
    message.record_answer(0, 200, 1000, 1.0, {}, None, 0, translation=report)
    message.record_answer(1, 200, 1000, 1.0, {}, None, 0)
    steps = [step for event in message.collect_events() for step in step_events(event)]
    _, _, translated, plain, answered, answered_plain = steps

    assert translated.translation == report and answered.translation == report
    assert plain.translation is None and answered_plain.translation is None
    # a step stored before the field existed (one event per step) reads None
    assert "translation" not in vars(plain) and "translation" not in vars(answered_plain)
