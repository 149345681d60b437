"""Building a re-drive from the ledger on both stores: the recorded request comes back as it was
received, and what must not be sent again is refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.redrive import RedriveRefusedError, redrive_request
from application.retention import redact_expired_bodies
from application.routing_table import ConnectionEntry, InMemoryRoutingTable
from domain.values import ConnectionStatus, Way
from infrastructure.ledger_chain import LedgerArchive
from infrastructure.retention import SqlExpiringBodies
from infrastructure.store import Store
from tests.audit_support import record, routed


def table_with(connection_id: str, status: ConnectionStatus) -> InMemoryRoutingTable:
    table = InMemoryRoutingTable()
    table.put_connection(
        ConnectionEntry(id=connection_id, label="cpo", initiated_by="peer", status=status)
    )
    return table


def test_the_recorded_request_comes_back_with_a_new_request_id_and_its_correlation_id(
    store: Store,
) -> None:
    sent = routed("r1", correlation_id="dispute-1", body=b'{"id": "LOC1", "price": 1.10}')
    record(store, sent)
    table = table_with("conn-cpo", ConnectionStatus.CONNECTED)

    request = redrive_request(
        LedgerArchive(store.ledger_db), store.ledger.mapper, table, str(sent.id)
    )

    assert request.body == b'{"id": "LOC1", "price": 1.10}'  # the bytes, not re-serialised
    assert (request.method, request.path, request.module) == ("PUT", "/NL/CPO/LOC1", "locations")
    assert request.headers["x-correlation-id"] == "dispute-1"
    assert request.headers["x-request-id"] != "r1"
    assert "authorization" not in request.headers  # the ledger never held the token
    assert request.repeats == str(sent.id) and request.connection.id == "conn-cpo"


@pytest.mark.parametrize(
    ("connection", "status", "reason"),
    [
        ("conn-cpo", None, "no longer registered"),
        ("conn-cpo", ConnectionStatus.SUSPENDED, "suspended"),
        (Way.LOCAL, ConnectionStatus.CONNECTED, "re-send it from that backend"),
    ],
)
def test_a_sender_that_cannot_be_spoken_for_is_refused(
    store: Store, connection: str, status: ConnectionStatus | None, reason: str
) -> None:
    sent = routed("r2", connection=connection)
    record(store, sent)
    table = table_with(connection, status) if status else InMemoryRoutingTable()
    with pytest.raises(RedriveRefusedError, match=reason):
        redrive_request(LedgerArchive(store.ledger_db), store.ledger.mapper, table, str(sent.id))


def test_a_message_whose_body_retention_removed_cannot_be_sent_again(store: Store) -> None:
    sent = routed("r3")
    record(store, sent)
    later = datetime.now(UTC) + timedelta(days=31)
    redact_expired_bodies(store.ledger, SqlExpiringBodies(store.ledger_db), 30, later)
    table = table_with("conn-cpo", ConnectionStatus.CONNECTED)
    with pytest.raises(RedriveRefusedError, match="no longer stored"):
        redrive_request(LedgerArchive(store.ledger_db), store.ledger.mapper, table, str(sent.id))
