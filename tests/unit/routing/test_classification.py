"""Digest §2.3: how the hub classifies a functional-module request, and when it refuses."""

from __future__ import annotations

import pytest

from domain.connections import Leniency
from domain.errors import InvalidOperationError
from domain.operations import Operation, parse_operation
from domain.routing import RouteClass, RouteClassKind, classify
from domain.status_codes import ClientError
from domain.values import InterfaceRole, ModuleId, PartyKey, PartyRef, Role

S = InterfaceRole.SENDER
R = InterfaceRole.RECEIVER
HUB = PartyRef("DE", "HUB")
CPO = PartyRef("NL", "CPO")
CPO2 = PartyRef("NL", "CP2")
EMSP = PartyRef("DE", "MSP")
OTHER_CPO = PartyRef("BE", "XYZ")
ONE_CPO = [PartyKey("NL", "CPO", Role.CPO)]
TWO_CPOS = [PartyKey("NL", "CPO", Role.CPO), PartyKey("NL", "CP2", Role.CPO)]
EMSP_CONNECTION = [PartyKey("DE", "MSP", Role.EMSP)]
PEER_HUB = [PartyKey("FR", "HUB", Role.HUB)]


def op(
    module: ModuleId, interface: InterfaceRole, method: str, path: str = "", query: str = ""
) -> Operation:
    return parse_operation(module, interface, method, path, query)


LOCATION_PUT = op(ModuleId.LOCATIONS, R, "PUT", "/NL/CPO/LOC1")
LOCATIONS_LIST = op(ModuleId.LOCATIONS, S, "GET")
CDR_POST = op(ModuleId.CDRS, R, "POST")


def assert_refused(route: RouteClass, *fragments: str) -> None:
    assert route.kind is RouteClassKind.REFUSED
    assert route.refused
    assert route.refusal is not None
    assert route.refusal.status_code is ClientError.INVALID_OR_MISSING_PARAMETERS
    assert route.refusal.status_code == 2001
    for fragment in fragments:
        assert fragment in route.refusal.message


def test_a_push_addressed_to_a_party_is_direct() -> None:
    route = classify(LOCATION_PUT, CPO, EMSP, HUB, ONE_CPO)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=CPO, to_party=EMSP)
    assert not route.refused


def test_a_push_addressed_to_the_hub_is_a_broadcast() -> None:
    route = classify(LOCATION_PUT, CPO, HUB, HUB, ONE_CPO)

    assert route == RouteClass(RouteClassKind.BROADCAST, from_party=CPO)


@pytest.mark.parametrize(
    "operation",
    [
        op(ModuleId.TARIFFS, R, "PUT", "/NL/CPO/T1"),
        op(ModuleId.TARIFFS, R, "DELETE", "/NL/CPO/T1"),
        op(ModuleId.LOCATIONS, R, "PATCH", "/NL/CPO/LOC1/EVSE1"),
    ],
)
def test_tariff_and_location_pushes_including_a_tariff_delete_can_be_broadcast(
    operation: Operation,
) -> None:
    assert classify(operation, CPO, HUB, HUB, ONE_CPO).kind is RouteClassKind.BROADCAST


def test_a_token_push_from_an_emsp_to_the_hub_is_a_broadcast() -> None:
    token_put = op(ModuleId.TOKENS, R, "PUT", "/DE/MSP/0123")

    assert classify(token_put, EMSP, HUB, HUB, EMSP_CONNECTION).kind is RouteClassKind.BROADCAST


@pytest.mark.parametrize(
    ("operation", "module"),
    [
        (op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1"), "sessions"),
        (op(ModuleId.SESSIONS, R, "PATCH", "/NL/CPO/S1"), "sessions"),
        (CDR_POST, "cdrs"),
    ],
)
def test_session_and_cdr_pushes_can_never_be_broadcast(operation: Operation, module: str) -> None:
    route = classify(operation, CPO, HUB, HUB, ONE_CPO)

    assert_refused(route, module, "can never be broadcast")


def test_a_session_push_addressed_to_an_emsp_is_direct() -> None:
    session_put = op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1")

    assert classify(session_put, CPO, EMSP, HUB, ONE_CPO).kind is RouteClassKind.DIRECT


def test_a_list_get_addressed_to_the_hub_is_get_all() -> None:
    route = classify(LOCATIONS_LIST, EMSP, HUB, HUB, EMSP_CONNECTION)

    assert route == RouteClass(RouteClassKind.GET_ALL, from_party=EMSP)


def test_a_list_get_addressed_to_the_owner_is_direct() -> None:
    route = classify(LOCATIONS_LIST, EMSP, CPO, HUB, EMSP_CONNECTION)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=EMSP, to_party=CPO)


def test_a_list_get_without_to_is_refused_because_open_routing_is_not_allowed_for_it() -> None:
    route = classify(LOCATIONS_LIST, EMSP, None, HUB, EMSP_CONNECTION)

    assert_refused(route, "list GET needs OCPI-to", "open routing is not allowed")
    assert route.from_party == EMSP


@pytest.mark.parametrize(
    "operation",
    [
        op(ModuleId.LOCATIONS, S, "GET", "/LOC1"),
        CDR_POST,
        op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1"),
        op(ModuleId.TOKENS, S, "POST", "/0123/authorize"),
        op(ModuleId.COMMANDS, R, "POST", "/STOP_SESSION"),
        op(ModuleId.CHARGING_PROFILES, R, "PUT", "/S1"),
        op(ModuleId.SESSIONS, S, "PUT", "/S1/charging_preferences"),
        op(ModuleId.COMMANDS, S, "POST", "/cb/1"),
    ],
)
def test_a_request_without_to_is_open_routing(operation: Operation) -> None:
    route = classify(operation, CPO, None, HUB, ONE_CPO)

    assert route == RouteClass(RouteClassKind.OPEN_ROUTING, from_party=CPO)


def test_a_receiver_get_addressed_to_the_hub_is_answered_by_the_hub() -> None:
    validation_get = op(ModuleId.LOCATIONS, R, "GET", "/NL/CPO/LOC1")

    route = classify(validation_get, CPO, HUB, HUB, ONE_CPO)

    assert route == RouteClass(RouteClassKind.HUB_RECEIVER_GET, from_party=CPO)


def test_a_single_object_sender_get_addressed_to_the_hub_is_refused() -> None:
    route = classify(op(ModuleId.LOCATIONS, S, "GET", "/LOC1"), EMSP, HUB, HUB, EMSP_CONNECTION)

    assert_refused(route, "single-object GET cannot be addressed to the hub")


@pytest.mark.parametrize(
    "operation",
    [
        op(ModuleId.TOKENS, S, "POST", "/0123/authorize"),
        op(ModuleId.COMMANDS, R, "POST", "/START_SESSION"),
        op(ModuleId.CHARGING_PROFILES, R, "DELETE", "/S1", "response_url=https://x/1"),
        op(ModuleId.SESSIONS, S, "PUT", "/S1/charging_preferences"),
        op(ModuleId.COMMANDS, S, "POST", "/cb/1"),
        op(ModuleId.CHARGING_PROFILES, S, "PUT", "/S1"),
    ],
)
def test_requests_that_only_a_party_can_answer_cannot_be_addressed_to_the_hub(
    operation: Operation,
) -> None:
    route = classify(operation, EMSP, HUB, HUB, EMSP_CONNECTION)

    assert_refused(route, "cannot be addressed to the hub")


def test_from_is_inferred_when_the_connection_carries_exactly_one_party() -> None:
    route = classify(LOCATION_PUT, None, EMSP, HUB, ONE_CPO)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=CPO, to_party=EMSP)


def test_from_is_inferred_when_the_only_party_holds_several_roles() -> None:
    same_ids_two_roles = [PartyKey("NL", "CPO", Role.CPO), PartyKey("NL", "CPO", Role.EMSP)]

    route = classify(LOCATION_PUT, None, EMSP, HUB, same_ids_two_roles)

    assert route.from_party == CPO


def test_missing_from_with_several_parties_on_the_connection_is_refused() -> None:
    route = classify(CDR_POST, None, EMSP, HUB, TWO_CPOS)

    assert_refused(route, "OCPI-from-country-code and OCPI-from-party-id are required", "2 parties")
    assert route.from_party is None


def test_missing_from_on_a_multi_party_connection_is_the_url_owner_when_it_is_one_of_them() -> None:
    put_by_second_cpo = op(ModuleId.LOCATIONS, R, "PUT", "/NL/CP2/LOC1")

    route = classify(put_by_second_cpo, None, EMSP, HUB, TWO_CPOS)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=CPO2, to_party=EMSP)


def test_missing_from_is_refused_when_the_url_owner_is_not_on_the_connection() -> None:
    foreign = op(ModuleId.LOCATIONS, R, "PUT", "/BE/XYZ/LOC1")

    assert_refused(classify(foreign, None, EMSP, HUB, TWO_CPOS), "the URL names none of them")


@pytest.mark.parametrize(
    "operation",
    [
        LOCATION_PUT,
        op(ModuleId.LOCATIONS, R, "PATCH", "/NL/CPO/LOC1/E1"),
        op(ModuleId.TARIFFS, R, "PUT", "/NL/CPO/T1"),
        op(ModuleId.TARIFFS, R, "DELETE", "/NL/CPO/T1"),
    ],
)
def test_a_broadcastable_push_without_to_from_a_lenient_connection_is_a_broadcast(
    operation: Operation,
) -> None:
    route = classify(operation, CPO, None, HUB, ONE_CPO, Leniency.LENIENT)

    assert route.kind is RouteClassKind.BROADCAST and route.from_party == CPO
    assert "no OCPI-to" in route.note and "lenient" in route.note


def test_a_broadcastable_push_without_to_from_a_strict_connection_is_refused() -> None:
    route = classify(LOCATION_PUT, CPO, None, HUB, ONE_CPO, Leniency.STRICT)

    assert_refused(route, "OCPI-to-country-code and OCPI-to-party-id are required", "strict")


def test_a_session_push_without_to_stays_open_routing_whatever_the_leniency() -> None:
    session = op(ModuleId.SESSIONS, R, "PUT", "/NL/CPO/S1")
    for leniency in Leniency:
        route = classify(session, CPO, None, HUB, ONE_CPO, leniency)
        assert route == RouteClass(RouteClassKind.OPEN_ROUTING, from_party=CPO)


def test_a_push_without_to_on_a_platform_node_stays_open_routing() -> None:
    route = classify(LOCATION_PUT, CPO, None, None, ONE_CPO)

    assert route == RouteClass(RouteClassKind.OPEN_ROUTING, from_party=CPO)


def test_missing_from_on_a_connection_without_parties_is_refused() -> None:
    assert_refused(classify(LOCATION_PUT, None, EMSP, HUB, []), "carries 0 parties")


def test_a_from_that_is_not_a_party_of_the_calling_connection_is_refused_as_spoofed() -> None:
    route = classify(LOCATION_PUT, OTHER_CPO, EMSP, HUB, ONE_CPO)

    assert_refused(route, "OCPI-from BE*XYZ is not a party of the calling connection", "spoofed")


def test_a_from_that_is_another_party_of_the_same_connection_is_accepted() -> None:
    put_by_second_cpo = op(ModuleId.LOCATIONS, R, "PUT", "/NL/CP2/LOC1")

    route = classify(put_by_second_cpo, CPO2, EMSP, HUB, TWO_CPOS)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=CPO2, to_party=EMSP)


def test_a_push_whose_url_owner_differs_from_from_is_refused() -> None:
    foreign_owner = op(ModuleId.LOCATIONS, R, "PUT", "/NL/CP2/LOC1")

    route = classify(foreign_owner, CPO, EMSP, HUB, TWO_CPOS)

    assert_refused(route, "URL owner NL*CP2 does not match OCPI-from NL*CPO")


def test_a_url_owner_check_applies_to_an_inferred_from_too() -> None:
    foreign_owner = op(ModuleId.TARIFFS, R, "PUT", "/NL/CP2/T1")

    assert_refused(classify(foreign_owner, None, EMSP, HUB, ONE_CPO), "does not match")


def test_a_receiver_get_of_another_owners_object_is_refused() -> None:
    peek = op(ModuleId.TOKENS, R, "GET", "/DE/MSP/0123")

    assert_refused(classify(peek, CPO, EMSP, HUB, ONE_CPO), "URL owner DE*MSP does not match")


def test_a_peer_hub_relaying_a_broadcast_may_keep_the_original_owner_in_the_url() -> None:
    relayed = op(ModuleId.LOCATIONS, R, "PUT", "/NL/CPO/LOC1")
    peer_hub = PartyRef("FR", "HUB")

    route = classify(relayed, peer_hub, EMSP, HUB, PEER_HUB)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=peer_hub, to_party=EMSP)


def test_a_request_addressed_to_its_own_sender_is_refused() -> None:
    assert_refused(classify(LOCATION_PUT, CPO, CPO, HUB, ONE_CPO), "equals OCPI-from")


def test_a_request_to_another_party_on_the_senders_own_connection_is_direct() -> None:
    route = classify(LOCATION_PUT, CPO, CPO2, HUB, TWO_CPOS)

    assert route == RouteClass(RouteClassKind.DIRECT, from_party=CPO, to_party=CPO2)


def test_the_spoofing_check_comes_before_the_to_address() -> None:
    assert_refused(classify(LOCATIONS_LIST, OTHER_CPO, HUB, HUB, ONE_CPO), "spoofed")


def test_classifying_a_configuration_module_is_a_wiring_mistake() -> None:
    client_info = op(ModuleId.HUB_CLIENT_INFO, S, "GET")

    with pytest.raises(InvalidOperationError, match="configuration module"):
        classify(client_info, CPO, HUB, HUB, ONE_CPO)
