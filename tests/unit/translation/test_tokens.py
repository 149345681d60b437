"""Tokens and authorisation answers, field by field, between 2.1.1, 2.2.1 and 2.3.0."""

import pytest

from domain.translation import TranslationContext
from domain.values import PartyRef
from tests.unit.translation.examples import (
    ABSENT,
    APPROXIMATED,
    DEFAULTED,
    DROPPED,
    TOKEN_211,
    TOKEN_221,
    Case,
    run,
)

MSP = TranslationContext(owner=PartyRef("NL", "MSP"))
UP = {"kind": "Token", "source": "2.1.1", "target": "2.2.1", "example": TOKEN_211}
DOWN = {"kind": "Token", "source": "2.2.1", "target": "2.1.1", "example": TOKEN_221}
FROM_230 = {"kind": "Token", "source": "2.3.0", "target": "2.2.1", "example": TOKEN_221}
AUTHORIZED = {"allowed": "ALLOWED", "location": {"location_id": "LOC-1", "evse_uids": ["E1"]}}

CASES = [
    Case("auth_id becomes contract_id", **UP, context=MSP,
         expect={"contract_id": "NL-MSP-C12345678-X", "auth_id": ABSENT}),
    Case("the owner is the eMSP of the connection", **UP, context=MSP,
         expect={"country_code": "NL", "party_id": "MSP"}),
    Case("a token push without a known owner is refused", **UP,
         refused="required_field_unknown"),
    Case("a PATCH of a token needs no owner", "Token", "2.1.1", "2.2.1",
         example={"valid": False, "last_updated": "2025-03-01T10:00:00Z"}, partial=True,
         expect={"valid": False, "country_code": ABSENT}),
    Case("contract_id becomes auth_id", **DOWN, expect={"auth_id": "NL-MSP-C12345678-X"}),
    Case("group_id is dropped", **DOWN, patch={"group_id": "G1"},
         losses=(("group_id", DROPPED, "G1", None),)),
    Case("default_profile_type is dropped", **DOWN, patch={"default_profile_type": "GREEN"},
         losses=(("default_profile_type", DROPPED, "GREEN", None),)),
    Case("energy_contract is dropped", **DOWN,
         patch={"energy_contract": {"supplier_name": "Green Co"}},
         losses=(("energy_contract", DROPPED, {"supplier_name": "Green Co"}, None),)),
    Case("an app user token is of type OTHER", **DOWN, patch={"type": "APP_USER"},
         expect={"type": "OTHER"}, losses=(("type", APPROXIMATED, "APP_USER", "OTHER"),)),
    Case("an EMAID token is of type OTHER in 2.2.1", **FROM_230, patch={"type": "EMAID"},
         expect={"type": "OTHER"}, losses=(("type", APPROXIMATED, "EMAID", "OTHER"),)),
    Case("every 2.2.1 token field is carried to 2.3.0", "Token", "2.2.1", "2.3.0",
         example=TOKEN_221, patch={"group_id": "G1"}, expect={"group_id": "G1"}),
    Case("2.1.1 authorisation answers get the token from the hub's store",
         "AuthorizationInfo", "2.1.1", "2.2.1", example=AUTHORIZED,
         context=TranslationContext(token=TOKEN_221), expect={"token": TOKEN_221},
         losses=()),
    Case("without a stored token the answer is refused", "AuthorizationInfo", "2.1.1", "2.2.1",
         example=AUTHORIZED, refused="required_field_unknown"),
    Case("connector ids of location references are dropped", "AuthorizationInfo", "2.1.1",
         "2.2.1", example=AUTHORIZED, context=TranslationContext(token=TOKEN_221),
         patch={"location.connector_ids": ["1"]},
         losses=(("location.connector_ids", DROPPED, ["1"], None),)),
    Case("the token and authorization reference are dropped for 2.1.1", "AuthorizationInfo",
         "2.2.1", "2.1.1", example={**AUTHORIZED, "token": TOKEN_221},
         patch={"authorization_reference": "REF-1"},
         losses=(("authorization_reference", DROPPED, "REF-1", None),)),
]  # fmt: skip


def test_the_token_of_a_2_2_1_authorisation_answer_is_reported_dropped():
    from domain.translation import translate

    result = translate("AuthorizationInfo", {**AUTHORIZED, "token": TOKEN_221}, "2.2.1", "2.1.1")
    assert result.body == AUTHORIZED
    assert [(loss.path, loss.kind) for loss in result.losses] == [("token", DROPPED)]


def test_the_stored_token_of_an_answer_is_reported_defaulted():
    from domain.translation import translate

    result = translate(
        "AuthorizationInfo", AUTHORIZED, "2.1.1", "2.2.1", TranslationContext(token=TOKEN_221)
    )
    assert [(loss.path, loss.kind) for loss in result.losses] == [("token", DEFAULTED)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_token_field(case):
    run(case)
