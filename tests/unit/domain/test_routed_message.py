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
