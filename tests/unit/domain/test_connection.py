import pytest

from domain.connections import INITIATED_BY_PEER, Connection
from domain.errors import ConnectionStateError
from domain.values import ConnectionStatus


def invited() -> Connection:
    return Connection(
        label="peer", initiated_by=INITIATED_BY_PEER, token_a_hash="a", versions_url=None
    )


def register(connection: Connection) -> None:
    connection.register(
        version="2.2.1",
        versions_url="http://peer/versions",
        endpoints=[{"identifier": "locations", "role": "RECEIVER", "url": "http://peer/loc"}],
        roles=[{"role": "EMSP", "country_code": "NL", "party_id": "EMS"}],
        inbound_token_hash="c",
        outbound_token="b",
    )


def test_an_invited_connection_is_planned_and_holds_only_the_hash_of_token_a() -> None:
    connection = invited()
    assert connection.status is ConnectionStatus.PLANNED
    assert connection.token_a_hash == "a"
    assert [type(e).__name__ for e in connection.collect_events()] == ["Opened"]


def test_registering_connects_and_forgets_token_a() -> None:
    connection = invited()
    register(connection)
    assert connection.status is ConnectionStatus.CONNECTED
    assert connection.token_a_hash is None
    assert connection.endpoint_url("locations", "RECEIVER") == "http://peer/loc"
    assert [type(e).__name__ for e in connection.collect_events()] == ["Opened", "Registered"]


def test_a_connection_cannot_register_twice() -> None:
    connection = invited()
    register(connection)
    with pytest.raises(ConnectionStateError, match="already registered"):
        register(connection)


def test_suspending_and_reactivating_changes_the_status_with_a_reason() -> None:
    connection = invited()
    register(connection)
    connection.suspend("contract ended")
    assert connection.status is ConnectionStatus.SUSPENDED
    with pytest.raises(ConnectionStateError):
        connection.suspend("again")
    connection.reactivate("contract renewed")
    assert connection.status is ConnectionStatus.CONNECTED
    assert connection.status_reason == "contract renewed"


def test_going_offline_only_happens_to_a_connected_link() -> None:
    connection = invited()
    connection.mark_offline("no answer")
    assert connection.status is ConnectionStatus.PLANNED
    register(connection)
    connection.mark_offline("no answer")
    assert connection.status is ConnectionStatus.OFFLINE
    connection.mark_online("answered")
    assert connection.status is ConnectionStatus.CONNECTED


def test_unregistering_drops_both_tokens_and_blocks_further_steps() -> None:
    connection = invited()
    register(connection)
    connection.unregister(initiated_by="peer", reason="DELETE credentials")
    assert connection.unregistered
    assert connection.outbound_token is None and connection.inbound_token_hash is None
    with pytest.raises(ConnectionStateError):
        connection.suspend("late")
    with pytest.raises(ConnectionStateError, match="unregistered"):
        register(connection)
