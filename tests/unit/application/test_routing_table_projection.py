"""The routing-table projection on the in-memory view, fed by a Registry on the POPO store."""

from collections.abc import Iterator

import pytest

from application.registry import Registry
from application.routing_table import InMemoryRoutingTable, RoutingTableProjection
from application.tokens import hash_token
from domain.errors import ConnectionStateError
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role
from domain.versions import VersionProposalError


@pytest.fixture
def registry() -> Iterator[Registry]:
    app = Registry(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()


def project(registry: Registry) -> InMemoryRoutingTable:
    table = InMemoryRoutingTable()
    notifications = registry.recorder.select_notifications(1, 10_000)
    events = [registry.mapper.to_domain_event(n) for n in notifications]
    assert table.apply_batch(RoutingTableProjection(), events, 0, notifications[-1].id)
    return table


ROLES = [
    {"role": "CPO", "country_code": "NL", "party_id": "CP1", "business_details": {"name": "C1"}},
    {"role": "EMSP", "country_code": "NL", "party_id": "CP1", "business_details": {"name": "E1"}},
]


def registered(registry: Registry) -> str:
    connection_id, _token_a, _ = registry.invite("platform one")
    registry.register_connection(
        connection_id,
        "2.2.1",
        "http://p1/versions",
        [{"identifier": "locations", "role": "RECEIVER", "url": "http://p1/loc"}],
        ROLES,
        hash_token("token-c"),
        "token-b",
    )
    return str(connection_id)


def test_a_registered_connection_routes_all_its_roles(registry: Registry) -> None:
    connection_id = registered(registry)
    table = project(registry)
    routes = table.routes_to(PartyRef("NL", "CP1"))
    assert {r.party.role for r in routes} == {Role.CPO, Role.EMSP}
    assert {r.route_key for r in routes} == {connection_id}
    assert all(r.status is ConnectionStatus.CONNECTED for r in routes)
    connection = table.connection_by_token_hash(hash_token("token-c"))
    assert connection is not None and connection.outbound_token == "token-b"
    assert connection.endpoint_url("locations", "RECEIVER") == "http://p1/loc"


def test_token_a_identifies_the_connection_only_until_registration(registry: Registry) -> None:
    connection_id, token_a, _ = registry.invite("later")
    table = project(registry)
    found = table.connection_by_token_a_hash(hash_token(token_a))
    assert found is not None and found.id == str(connection_id)
    registry.register_connection(
        connection_id, "2.2.1", "http://x/versions", [], [], hash_token("c2"), "b2"
    )
    assert project(registry).connection_by_token_a_hash(hash_token(token_a)) is None


def test_suspending_a_connection_suspends_the_routes_of_its_parties(registry: Registry) -> None:
    from uuid import UUID

    connection_id = registered(registry)
    registry.suspend_connection(UUID(connection_id), "unpaid invoices")
    table = project(registry)
    assert table.connection(connection_id).status is ConnectionStatus.SUSPENDED  # type: ignore[union-attr]
    assert {r.status for r in table.routes_to(PartyRef("NL", "CP1"))} == {
        ConnectionStatus.SUSPENDED
    }


def test_a_party_claimed_by_a_second_connection_is_refused_and_the_refusal_recorded(
    registry: Registry,
) -> None:
    first = registered(registry)
    second, _token, _ = registry.invite("impostor")
    refused, _ = registry.register_connection(
        second, "2.2.1", "http://p2/versions", [], ROLES[:1], hash_token("c3"), "b3"
    )
    assert refused and "already registered" in refused[0]["reason"]
    assert {r.route_key for r in project(registry).routes_to(PartyRef("NL", "CP1"))} == {first}
    events = list(registry.repository.event_store.get(second))
    assert type(events[-1]).__name__ == "PartyRefused"


def test_unregistering_removes_routes_and_tokens(registry: Registry) -> None:
    from uuid import UUID

    connection_id = registered(registry)
    registry.unregister_connection(UUID(connection_id), "peer", "DELETE credentials")
    table = project(registry)
    assert table.routes_to(PartyRef("NL", "CP1")) == []
    assert table.connection_by_token_hash(hash_token("token-c")) is None


def test_local_parties_are_routed_to_their_backend(registry: Registry) -> None:
    registry.register_local_party(PartyKey("DE", "LOC", Role.CPO), {"name": "L"}, "http://be")
    (route,) = project(registry).routes_to(PartyRef("DE", "LOC"))
    assert route.kind == "local" and route.backend_url == "http://be"


def test_a_batch_is_refused_when_the_view_moved_on(registry: Registry) -> None:
    registered(registry)
    table = project(registry)
    assert not table.apply_batch(RoutingTableProjection(), [], 0, 99)


def test_a_pending_token_authenticates_until_the_handshake_fails(registry: Registry) -> None:
    connection_id, _ = registry.open_outbound("peer", "http://p/versions")
    registry.start_handshake(connection_id, "register", "http://p/versions", hash_token("b"))
    found = project(registry).connection_by_token_hash(hash_token("b"))
    assert found is not None and found.id == str(connection_id)
    registry.fail_handshake(connection_id, "peer answered 3001", 3001)
    table = project(registry)
    assert table.connection_by_token_hash(hash_token("b")) is None
    assert table.connection(str(connection_id)).status_reason == "peer answered 3001"  # type: ignore[union-attr]


# ---- an invitation proposes an OCPI version (and, for 2.1.1, the peer's role) ----------------


def test_a_211_invitation_records_the_version_and_the_role_it_proposes(registry: Registry) -> None:
    connection_id, _token_a, _ = registry.invite("cpo", version="2.1.1", role="CPO")
    registry.register_connection(
        connection_id, "2.1.1", "http://p/v", [], ROLES[:1], hash_token("c"), "b"
    )

    entry = project(registry).connection(str(connection_id))

    assert entry is not None
    assert (entry.version, entry.proposed_version, entry.proposed_role) == ("2.1.1", "2.1.1", "CPO")
    assert entry.roles == (PartyKey("NL", "CP1", Role.CPO),)


def test_an_invitation_without_a_proposal_records_none(registry: Registry) -> None:
    connection_id, _token_a, _ = registry.invite("any")

    entry = project(registry).connection(str(connection_id))

    assert entry is not None and (entry.proposed_version, entry.proposed_role) == (None, None)
    assert [type(e).__name__ for e in registry.repository.event_store.get(connection_id)] == [
        "Opened"
    ]


def test_a_211_invitation_without_a_role_records_nothing(registry: Registry) -> None:
    with pytest.raises(VersionProposalError, match="needs its role"):
        registry.invite("cpo", version="2.1.1")

    assert registry.recorder.select_notifications(1, 10) == []


def test_a_registered_connection_takes_no_proposal(registry: Registry) -> None:
    connection_id, _token_a, _ = registry.invite("any")
    registry.register_connection(
        connection_id, "2.2.1", "http://p/v", [], ROLES[:1], hash_token("c"), "b"
    )
    connection = registry.get_connection(connection_id)

    with pytest.raises(ConnectionStateError, match="already registered"):
        connection.propose_version("2.1.1", "CPO")
