"""Header rules per hop: digest §1.2 (Authorization), §1.6 (ids), §1.7 and §2.2 (routing)."""

from __future__ import annotations

import base64

import pytest

from domain.errors import InvalidHeaderError
from domain.headers import (
    broadcast_leg_headers,
    forward_request_headers,
    hub_answer_headers,
    lower_names,
    parse_token_header,
    relay_response_headers,
    routing_headers,
    sanitize_for_ledger,
)
from domain.values import PartyRef

CPO = PartyRef("NL", "CPO")
EMSP = PartyRef("DE", "MSP")
HUB = PartyRef("DE", "HUB")

INCOMING = {
    "Authorization": "Token Y3BvLXRva2Vu",
    "X-Request-ID": "774321",
    "X-Correlation-ID": "123456",
    "OCPI-from-country-code": "nl",
    "OCPI-from-party-id": "cpo",
    "OCPI-to-country-code": "DE",
    "OCPI-to-party-id": "MSP",
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": "42",
    "Host": "hub.example",
    "Connection": "keep-alive, X-Hop",
    "Keep-Alive": "timeout=5",
    "Transfer-Encoding": "chunked",
    "X-Hop": "only for the next hop",
    "Accept": "application/json",
    "X-Custom-Trace": "abc",
}


def forwarded(**overrides: object) -> dict[str, str]:
    arguments: dict = {
        "incoming": INCOMING,
        "new_request_id": "991234",
        "correlation_id": "123456",
        "token_header_value": "Token aHViLXRva2Vu",
        "content_type": "application/json",
    }
    arguments.update(overrides)
    return forward_request_headers(**arguments)


def test_a_forwarded_request_gets_a_new_request_id_and_keeps_the_correlation_id() -> None:
    headers = forwarded()

    assert headers["x-request-id"] == "991234"
    assert headers["x-correlation-id"] == "123456"


def test_a_forwarded_request_keeps_the_routing_headers_unchanged() -> None:
    headers = forwarded()

    assert headers["ocpi-from-country-code"] == "nl"
    assert headers["ocpi-from-party-id"] == "cpo"
    assert headers["ocpi-to-country-code"] == "DE"
    assert headers["ocpi-to-party-id"] == "MSP"


def test_a_forwarded_request_carries_the_hubs_token_for_the_target_not_the_requesters() -> None:
    headers = forwarded()

    assert headers["authorization"] == "Token aHViLXRva2Vu"
    assert "Token Y3BvLXRva2Vu" not in headers.values()


def test_a_forwarded_request_drops_hop_by_hop_headers_and_those_named_in_connection() -> None:
    headers = forwarded()

    for name in ("connection", "keep-alive", "transfer-encoding", "host", "x-hop"):
        assert name not in headers
    assert "content-length" not in headers


def test_a_forwarded_request_keeps_other_end_to_end_headers() -> None:
    headers = forwarded()

    assert headers["accept"] == "application/json"
    assert headers["x-custom-trace"] == "abc"


def test_all_forwarded_header_names_are_lower_case() -> None:
    assert all(name == name.lower() for name in forwarded())


def test_a_forwarded_request_without_body_has_no_content_type() -> None:
    assert "content-type" not in forwarded(content_type=None)


def test_a_forwarded_request_uses_the_given_content_type() -> None:
    assert forwarded()["content-type"] == "application/json"


def test_open_routing_adds_the_chosen_receiver_as_to() -> None:
    no_to = {k: v for k, v in INCOMING.items() if not k.startswith("OCPI-to")}

    headers = forwarded(incoming=no_to, to_party=EMSP)

    assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == ("DE", "MSP")
    assert headers["ocpi-from-party-id"] == "cpo"


def test_an_inferred_from_is_added_to_the_forwarded_request() -> None:
    no_from = {k: v for k, v in INCOMING.items() if not k.startswith("OCPI-from")}

    headers = forwarded(incoming=no_from, from_party=CPO)

    assert (headers["ocpi-from-country-code"], headers["ocpi-from-party-id"]) == ("NL", "CPO")


def test_forwarding_does_not_mutate_the_incoming_headers() -> None:
    before = dict(INCOMING)

    forwarded()

    assert before == INCOMING


def test_a_broadcast_leg_is_from_the_hub_to_its_target() -> None:
    to_hub = {**INCOMING, "OCPI-to-country-code": "DE", "OCPI-to-party-id": "HUB"}

    headers = broadcast_leg_headers(
        to_hub, "leg-1", "123456", "Token dGFyZ2V0", "application/json", hub=HUB, target=EMSP
    )

    assert (headers["ocpi-from-country-code"], headers["ocpi-from-party-id"]) == ("DE", "HUB")
    assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == ("DE", "MSP")
    assert headers["x-request-id"] == "leg-1"
    assert headers["x-correlation-id"] == "123456"
    assert headers["authorization"] == "Token dGFyZ2V0"


UPSTREAM_RESPONSE = {
    "X-Request-ID": "991234",
    "X-Correlation-ID": "123456",
    "OCPI-to-country-code": "NL",
    "OCPI-to-party-id": "CPO",
    "OCPI-from-country-code": "DE",
    "OCPI-from-party-id": "MSP",
    "Content-Type": "application/json",
    "Content-Length": "512",
    "X-Total-Count": "2000",
    "X-Limit": "50",
    "Link": '<https://msp.example/ocpi/2.2.1/tokens?offset=50&limit=50>; rel="next"',
    "Location": "https://msp.example/ocpi/2.2.1/cdrs/abc",
    "Server": "nginx",
    "Set-Cookie": "session=1",
}


def test_a_relayed_response_carries_the_requesters_original_request_id() -> None:
    headers = relay_response_headers(UPSTREAM_RESPONSE, "774321", "123456", CPO, EMSP)

    assert headers["x-request-id"] == "774321"
    assert headers["x-correlation-id"] == "123456"


def test_a_relayed_response_is_to_the_requester_and_from_the_responder() -> None:
    answered_by = PartyRef("FR", "ANS")

    headers = relay_response_headers(UPSTREAM_RESPONSE, "774321", "123456", CPO, answered_by)

    assert (headers["ocpi-to-country-code"], headers["ocpi-to-party-id"]) == ("NL", "CPO")
    assert (headers["ocpi-from-country-code"], headers["ocpi-from-party-id"]) == ("FR", "ANS")


def test_a_relayed_response_keeps_pagination_location_and_content_type_only() -> None:
    headers = relay_response_headers(UPSTREAM_RESPONSE, "774321", "123456", CPO, EMSP)

    assert headers["x-total-count"] == "2000"
    assert headers["x-limit"] == "50"
    assert headers["link"] == UPSTREAM_RESPONSE["Link"]
    assert headers["location"] == UPSTREAM_RESPONSE["Location"]
    assert headers["content-type"] == "application/json"
    assert set(headers) == {
        "x-request-id",
        "x-correlation-id",
        "ocpi-to-country-code",
        "ocpi-to-party-id",
        "ocpi-from-country-code",
        "ocpi-from-party-id",
        "content-type",
        "x-total-count",
        "x-limit",
        "link",
        "location",
    }


def test_a_hub_answer_is_to_the_requester_and_from_the_hub() -> None:
    headers = hub_answer_headers("774321", "123456", requester=CPO, hub=HUB)

    assert headers == {
        "content-type": "application/json",
        "x-request-id": "774321",
        "x-correlation-id": "123456",
        "ocpi-to-country-code": "NL",
        "ocpi-to-party-id": "CPO",
        "ocpi-from-country-code": "DE",
        "ocpi-from-party-id": "HUB",
    }


def test_a_hub_answer_on_a_configuration_module_has_no_routing_headers() -> None:
    headers = hub_answer_headers("r", "c", requester=None, hub=None)

    assert not any(name.startswith("ocpi-") for name in headers)


def test_the_ledger_never_stores_authorization_or_other_secrets() -> None:
    headers = {
        "Authorization": "Token abc",
        "Proxy-Authorization": "Basic eHk=",
        "X-Api-Key": "k",
        "X-Auth-Token": "t",
        "Cookie": "a=b",
        "X-Forwarded-Credential": "Bearer xyz",
        "X-Request-ID": "1",
        "OCPI-to-party-id": "MSP",
    }

    assert sanitize_for_ledger(headers) == {"x-request-id": "1", "ocpi-to-party-id": "MSP"}


def test_routing_headers_are_parsed_case_insensitively_and_upper_cased() -> None:
    from_party, to_party = routing_headers(INCOMING)

    assert from_party == CPO
    assert to_party == EMSP
    assert (from_party.country_code, from_party.party_id) == ("NL", "CPO")


def test_absent_routing_headers_are_none() -> None:
    assert routing_headers({"X-Request-ID": "1"}) == (None, None)


def test_an_open_routing_request_has_from_but_no_to() -> None:
    headers = {"ocpi-from-country-code": "NL", "ocpi-from-party-id": "CPO"}

    assert routing_headers(headers) == (CPO, None)


def test_empty_routing_headers_count_as_absent() -> None:
    headers = {"ocpi-to-country-code": " ", "ocpi-to-party-id": ""}

    assert routing_headers(headers) == (None, None)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"OCPI-to-country-code": "DE"},
            "ocpi-to-country-code is present but ocpi-to-party-id is missing",
        ),
        (
            {"OCPI-from-party-id": "CPO"},
            "ocpi-from-party-id is present but ocpi-from-country-code is missing",
        ),
        (
            {"OCPI-from-party-id": "CPO", "OCPI-from-country-code": ""},
            "ocpi-from-party-id is present but ocpi-from-country-code is missing",
        ),
        (
            {"OCPI-to-country-code": "DEU", "OCPI-to-party-id": "MSP"},
            "OCPI-to headers are malformed: country_code must be 2 letters",
        ),
        (
            {"OCPI-from-country-code": "NL", "OCPI-from-party-id": "C*O"},
            "OCPI-from headers are malformed: party_id must be 3 letters or digits",
        ),
        (
            {"ocpi-to-party-id": "MSP", "OCPI-to-party-id": "XYZ", "ocpi-to-country-code": "DE"},
            "header ocpi-to-party-id is given twice with different values",
        ),
    ],
)
def test_a_broken_routing_header_pair_is_refused_with_the_reason(
    headers: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidHeaderError) as raised:
        routing_headers(headers)

    assert message in str(raised.value)


def test_case_variants_with_the_same_value_are_accepted() -> None:
    assert lower_names({"X-Limit": "5", "x-limit": "5"}) == {"x-limit": "5"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_base64_token_yields_the_decoded_token_then_the_raw_form() -> None:
    assert parse_token_header("Token " + b64("example-token")) == [
        "example-token",
        "ZXhhbXBsZS10b2tlbg==",
    ]


def test_a_raw_token_yields_itself() -> None:
    token = "ebf3b399-779f-4497-9b9d-ac6ad3cc44d2"

    assert parse_token_header(f"Token {token}") == [token]


def test_the_spec_example_with_an_encoded_newline_is_not_stripped() -> None:
    # "ZXhhbXBsZS10b2tlbgo=" is "example-token\n": not a printable token, so only the raw form.
    assert parse_token_header("Token ZXhhbXBsZS10b2tlbgo=") == ["ZXhhbXBsZS10b2tlbgo="]


def test_base64_that_decodes_to_binary_is_only_a_raw_candidate() -> None:
    binary = base64.b64encode(b"\x00\xff\x10abc").decode()

    assert parse_token_header(f"Token {binary}") == [binary]


def test_non_canonical_or_unpadded_base64_is_only_a_raw_candidate() -> None:
    assert parse_token_header("Token ZXhhbXBsZS10b2tlbg") == ["ZXhhbXBsZS10b2tlbg"]
    assert parse_token_header("Token ZXhhbXBsZS10b2tlbh==") == ["ZXhhbXBsZS10b2tlbh=="]


def test_a_raw_token_that_happens_to_be_valid_base64_yields_both_candidates() -> None:
    # The registry tries both: "YWJj" may be a raw token or the encoding of "abc".
    assert parse_token_header("Token YWJj") == ["abc", "YWJj"]


@pytest.mark.parametrize(
    "value",
    ["", "Token", "Token ", "Bearer abc", "Token  abc", "Token a b", "abc", "Token abc\n"],
)
def test_anything_but_token_and_one_space_and_a_printable_token_yields_no_candidate(
    value: str,
) -> None:
    assert parse_token_header(value) == []


def test_the_token_scheme_is_case_insensitive() -> None:
    assert parse_token_header("token abc") == ["abc"]
