"""The routing table at any instant, replayed from the registry log on both stores."""

from datetime import UTC, datetime, timedelta

from application.time_travel import describe, routing_table_as_of
from application.tokens import hash_token
from domain.values import ConnectionStatus, PartyRef
from infrastructure.store import Store
from tests.audit_support import at

T0 = datetime(2024, 5, 6, 14, 0, tzinfo=UTC)
ROLES = [
    {"role": "CPO", "country_code": "NL", "party_id": "CPO", "business_details": {"name": "C"}}
]


def history(store: Store) -> None:
    with at(T0):
        connection_id, _token, _ = store.registry.invite("cpo")
    with at(T0 + timedelta(minutes=1)):
        store.registry.register_connection(
            connection_id,
            "2.2.1",
            "http://cpo/versions",
            [],
            ROLES,
            hash_token("c"),
            "outbound-token-b",
        )
    with at(T0 + timedelta(minutes=10)):
        store.registry.suspend_connection(connection_id, "unpaid invoices")
    with at(T0 + timedelta(minutes=20)):
        store.registry.reactivate_connection(connection_id, "paid")
    with at(T0 + timedelta(minutes=30)):
        store.registry.unregister_connection(connection_id, "us", "contract ended")


def statuses(store: Store, minutes: float) -> tuple[set[str], set[str]]:
    table = routing_table_as_of(store.registry, T0 + timedelta(minutes=minutes))
    routes = {str(r.status) for r in table.routes_to(PartyRef("NL", "CPO"))}
    connections = {
        str(c.status) + ("/unregistered" if c.unregistered else "") for c in table.connections()
    }
    return routes, connections


def test_the_routing_table_replays_registration_suspension_and_unregistration(store: Store) -> None:
    history(store)
    assert statuses(store, -1) == (set(), set())
    assert statuses(store, 0.5) == (set(), {"PLANNED"})
    assert statuses(store, 1) == ({"CONNECTED"}, {"CONNECTED"})  # at the instant counts
    assert statuses(store, 14) == ({"SUSPENDED"}, {"SUSPENDED"})
    assert statuses(store, 25) == ({"CONNECTED"}, {"CONNECTED"})
    routes, connections = statuses(store, 31)
    assert connections == {"SUSPENDED/unregistered"}
    assert ConnectionStatus.CONNECTED not in routes


def test_the_described_table_says_who_was_routable_and_holds_no_tokens(store: Store) -> None:
    history(store)
    moment = T0 + timedelta(minutes=5)
    described = describe(routing_table_as_of(store.registry, moment), moment)
    assert [(p["party"], p["routable"]) for p in described["parties"]] == [("NL*CPO", True)]
    assert "outbound-token-b" not in str(described)
    assert "outbound_token" not in described["connections"][0]
    later = T0 + timedelta(minutes=15)
    described = describe(routing_table_as_of(store.registry, later), later)
    assert [(p["party"], p["routable"]) for p in described["parties"]] == [("NL*CPO", False)]
