from domain.route_choice import (
    ANY,
    NoRoute,
    PolicyRule,
    RouteCandidate,
    RouteDecision,
    RoutePolicy,
    choose_route,
    policy_for,
    worse_status,
)
from domain.values import ConnectionStatus, PartyRef, Way

CPO1 = PartyRef("NL", "CP1")
CONNECTED = ConnectionStatus.CONNECTED
SUSPENDED = ConnectionStatus.SUSPENDED


def direct(status=CONNECTED, offers=True) -> RouteCandidate:
    return RouteCandidate(Way.DIRECT, "c-direct", status, offers, "to-cpo")


def hub(status=CONNECTED) -> RouteCandidate:
    return RouteCandidate(Way.HUB, "c-hub", status, True, "the-hub")


def test_a_connected_direct_connection_offering_the_endpoint_is_preferred_over_the_hub():
    decision = choose_route(CPO1, "locations", "receiver", [hub(), direct()])
    assert isinstance(decision, RouteDecision)
    assert (decision.kind, decision.connection_id) == (Way.DIRECT, "c-direct")
    assert "CONNECTED and offers locations RECEIVER" in decision.reason


def test_a_suspended_direct_connection_sends_the_message_via_the_hub_and_says_why():
    decision = choose_route(CPO1, "tokens", "receiver", [direct(SUSPENDED), hub()])
    assert isinstance(decision, RouteDecision)
    assert decision.kind is Way.HUB
    assert "direct connection to-cpo is SUSPENDED" in decision.reason
    assert "hub connection the-hub" in decision.reason


def test_a_direct_connection_without_the_modules_endpoint_falls_back_to_the_hub():
    decision = choose_route(CPO1, "cdrs", "receiver", [direct(offers=False), hub()])
    assert isinstance(decision, RouteDecision) and decision.kind is Way.HUB
    assert "offers no such endpoint" in decision.reason


def test_without_any_direct_connection_the_hub_listing_the_target_is_used():
    decision = choose_route(CPO1, "locations", "sender", [hub()])
    assert isinstance(decision, RouteDecision) and decision.kind is Way.HUB
    assert "no direct connection" in decision.reason


def test_a_local_party_is_delivered_locally_whatever_the_policy():
    local = RouteCandidate(Way.LOCAL, None, CONNECTED, True)
    decision = choose_route(CPO1, "locations", "receiver", [local, hub()], RoutePolicy.HUB)
    assert isinstance(decision, RouteDecision) and decision.kind is Way.LOCAL


def test_policy_hub_uses_the_hub_even_when_a_direct_connection_works():
    decision = choose_route(CPO1, "locations", "receiver", [direct(), hub()], RoutePolicy.HUB)
    assert isinstance(decision, RouteDecision) and decision.kind is Way.HUB
    assert decision.reason.startswith("policy hub")


def test_policy_direct_refuses_to_fall_back_to_the_hub():
    outcome = choose_route(
        CPO1, "locations", "receiver", [direct(SUSPENDED), hub()], RoutePolicy.DIRECT
    )
    assert isinstance(outcome, NoRoute)
    assert "policy direct" in outcome.reason and "SUSPENDED" in outcome.reason


def test_a_custom_module_goes_direct_only_and_never_via_a_hub():
    assert choose_route(CPO1, "nltnm-tokens", "receiver", [direct(), hub()]).kind is Way.DIRECT
    outcome = choose_route(CPO1, "nltnm-tokens", "receiver", [direct(SUSPENDED), hub()])
    assert isinstance(outcome, NoRoute) and "never via a hub" in outcome.reason
    forced = choose_route(CPO1, "nltnm-tokens", "receiver", [direct(), hub()], RoutePolicy.HUB)
    assert isinstance(forced, NoRoute)


def test_no_usable_route_says_what_was_tried():
    outcome = choose_route(CPO1, "locations", "receiver", [direct(SUSPENDED), hub(SUSPENDED)])
    assert isinstance(outcome, NoRoute)
    assert "to-cpo is SUSPENDED" in outcome.reason and "the-hub is SUSPENDED" in outcome.reason
    assert isinstance(choose_route(CPO1, "locations", "receiver", []), NoRoute)


def test_the_most_specific_policy_rule_wins():
    rules = [
        PolicyRule(ANY, ANY, RoutePolicy.HUB),
        PolicyRule(ANY, "tokens", RoutePolicy.AUTO),
        PolicyRule(CPO1, ANY, RoutePolicy.DIRECT),
        PolicyRule(CPO1, "cdrs", RoutePolicy.HUB),
    ]
    assert policy_for(rules, PartyRef("DE", "XYZ"), "locations") is RoutePolicy.HUB
    assert policy_for(rules, PartyRef("DE", "XYZ"), "tokens") is RoutePolicy.AUTO
    assert policy_for(rules, CPO1, "tokens") is RoutePolicy.DIRECT
    assert policy_for(rules, CPO1, "cdrs") is RoutePolicy.HUB
    assert policy_for([], CPO1, "cdrs") is RoutePolicy.AUTO


def test_a_path_is_as_good_as_its_weakest_link():
    assert worse_status(CONNECTED, SUSPENDED) is SUSPENDED
    assert worse_status(CONNECTED, ConnectionStatus.OFFLINE) is ConnectionStatus.OFFLINE
    assert worse_status(CONNECTED, CONNECTED) is CONNECTED
