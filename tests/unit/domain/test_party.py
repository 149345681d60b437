import pytest

from domain.errors import InvalidPartyError, PartyAlreadyRegisteredError
from domain.parties import Party, party_aggregate_id
from domain.values import ConnectionStatus, PartyKey, PartyRef, Role, Way


def party() -> Party:
    return Party(country_code="NL", party_id="CPO", role="CPO", business_details={"name": "C"})


def test_the_party_id_is_derived_from_its_key_so_registration_is_idempotent() -> None:
    assert party().id == party_aggregate_id(PartyKey("nl", "cpo", Role.CPO))


def test_a_party_owned_by_one_connection_is_refused_on_another() -> None:
    p = party()
    p.add_route("conn-1", Way.DIRECT, ConnectionStatus.CONNECTED)
    with pytest.raises(PartyAlreadyRegisteredError, match="conn-1"):
        p.add_route("conn-2", Way.DIRECT, ConnectionStatus.CONNECTED)


def test_a_locally_hosted_party_cannot_also_be_registered_by_a_peer() -> None:
    p = party()
    p.add_route(Way.LOCAL, Way.LOCAL, ConnectionStatus.CONNECTED, backend_url="http://backend")
    with pytest.raises(PartyAlreadyRegisteredError, match="hosted on this node"):
        p.add_route("conn-2", Way.DIRECT, ConnectionStatus.CONNECTED)


def test_hub_routes_add_to_a_direct_route_without_conflict() -> None:
    p = party()
    p.add_route("direct-conn", Way.DIRECT, ConnectionStatus.OFFLINE)
    p.add_route("hub-conn", Way.HUB, ConnectionStatus.CONNECTED)
    assert set(p.routes) == {"direct-conn", "hub-conn"}
    assert p.status is ConnectionStatus.CONNECTED


def test_a_route_status_change_is_recorded_only_when_it_changes() -> None:
    p = party()
    p.add_route("c", Way.DIRECT, ConnectionStatus.CONNECTED)
    p.collect_events()
    p.change_route_status("c", ConnectionStatus.CONNECTED, "same")
    assert p.collect_events() == []
    p.change_route_status("c", ConnectionStatus.SUSPENDED, "suspended by operator")
    (changed,) = p.collect_events()
    assert changed.status == "SUSPENDED" and changed.reason == "suspended by operator"


def test_party_refs_are_case_insensitive_and_validated() -> None:
    assert PartyRef("nl", "abc") == PartyRef("NL", "ABC")
    assert str(PartyRef.parse("de*x1z")) == "DE*X1Z"
    with pytest.raises(InvalidPartyError, match="country_code"):
        PartyRef("NLD", "ABC")
    with pytest.raises(InvalidPartyError, match="CC\\*PID"):
        PartyRef.parse("NLABC")


def test_a_hosted_party_whose_backend_moves_records_the_new_url_and_nothing_when_it_stays() -> None:
    p = party()
    p.add_route(Way.LOCAL, Way.LOCAL, ConnectionStatus.CONNECTED, backend_url="http://old")
    p.collect_events()
    p.add_route(Way.LOCAL, Way.LOCAL, ConnectionStatus.CONNECTED, backend_url="http://old")
    assert p.collect_events() == []
    p.add_route(Way.LOCAL, Way.LOCAL, ConnectionStatus.CONNECTED, backend_url="http://new")
    (moved,) = p.collect_events()
    assert isinstance(moved, Party.RouteAdded) and moved.backend_url == "http://new"
    assert p.routes[Way.LOCAL]["backend_url"] == "http://new"
