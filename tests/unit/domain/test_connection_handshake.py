import pytest

from domain.connections import HANDSHAKE_REGISTER, HANDSHAKE_UPDATE, INITIATED_BY_US, Connection
from domain.errors import ConnectionStateError


def outbound() -> Connection:
    return Connection(
        label="peer", initiated_by=INITIATED_BY_US, token_a_hash=None, versions_url="http://p/v"
    )


def registered(connection: Connection) -> Connection:
    connection.register("2.2.1", "http://p/v", [], [], "b-hash", "c")
    return connection


def test_starting_a_handshake_accepts_our_pending_token_until_registration() -> None:
    connection = outbound()
    connection.start_handshake(HANDSHAKE_REGISTER, "http://p/v", "pending-b")
    assert connection.pending_inbound_token_hash == "pending-b"
    registered(connection)
    assert connection.pending_inbound_token_hash is None
    assert connection.inbound_token_hash == "b-hash"


def test_a_failed_handshake_drops_the_pending_token() -> None:
    connection = outbound()
    connection.start_handshake(HANDSHAKE_REGISTER, "http://p/v", "pending-b")
    connection.fail_handshake("peer answered 3001", 3001)
    assert connection.pending_inbound_token_hash is None
    assert connection.status_reason == "peer answered 3001"


def test_an_update_handshake_needs_a_registered_connection_and_a_register_one_does_not() -> None:
    with pytest.raises(ConnectionStateError, match="not registered"):
        outbound().start_handshake(HANDSHAKE_UPDATE, "http://p/v", "x")
    with pytest.raises(ConnectionStateError, match="already registered"):
        registered(outbound()).start_handshake(HANDSHAKE_REGISTER, "http://p/v", "x")
    with pytest.raises(ConnectionStateError, match="purpose"):
        outbound().start_handshake("dance", "http://p/v", "x")


def test_updating_credentials_can_move_the_versions_url() -> None:
    connection = registered(outbound())
    connection.start_handshake(HANDSHAKE_UPDATE, "http://p/v", "b2")
    connection.update_credentials("2.2.1", [], [], "b2", "c2", INITIATED_BY_US, "http://p/v2")
    assert connection.versions_url == "http://p/v2"
    assert connection.pending_inbound_token_hash is None
