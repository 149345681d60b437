"""Commands, command answers, charging profiles and credentials between the three versions."""

import pytest

from domain.errors import UntranslatableError
from domain.translation import TranslationContext, translate
from domain.values import PartyRef, Role
from tests.unit.translation.examples import (
    ABSENT,
    APPROXIMATED,
    BUSINESS,
    CREDENTIALS_211,
    CREDENTIALS_221,
    DEFAULTED,
    DROPPED,
    TOKEN_211,
    TOKEN_221,
    Case,
    run,
)

MSP = TranslationContext(owner=PartyRef("NL", "MSP"))
URL = "https://msp.example/ocpi/commands/START_SESSION/42"
START_211 = {"response_url": URL, "token": TOKEN_211, "location_id": "LOC-1", "evse_uid": "E1"}
START_221 = {"response_url": URL, "token": TOKEN_221, "location_id": "LOC-1", "evse_uid": "E1"}
RESERVE_211 = {
    "response_url": URL,
    "token": TOKEN_211,
    "expiry_date": "2025-03-01T12:00:00Z",
    "reservation_id": 17,
    "location_id": "LOC-1",
}
RESERVE_221 = {**RESERVE_211, "token": TOKEN_221, "reservation_id": "17"}
HUB_ROLE = {"role": "HUB", "business_details": BUSINESS, "party_id": "HUB", "country_code": "NL"}

CASES = [
    Case("the StartSession token is the requesting eMSP's", "StartSession", "2.1.1", "2.2.1",
         example=START_211, context=MSP,
         expect={"token": TOKEN_221, "response_url": URL}),
    Case("connector_id is dropped from a StartSession", "StartSession", "2.2.1", "2.1.1",
         example=START_221, patch={"connector_id": "1"},
         losses=(("connector_id", DROPPED, "1", None),)),
    Case("the authorization reference is dropped", "StartSession", "2.2.1", "2.1.1",
         example=START_221, patch={"authorization_reference": "REF-9"},
         losses=(("authorization_reference", DROPPED, "REF-9", None),)),
    Case("a 2.1.1 reservation id is its decimal string", "ReserveNow", "2.1.1", "2.2.1",
         example=RESERVE_211, context=MSP, expect={"reservation_id": "17"}),
    Case("a decimal reservation id is its int", "ReserveNow", "2.2.1", "2.1.1",
         example=RESERVE_221, expect={"reservation_id": 17}),
    Case("another reservation id is the int the hub allocated", "ReserveNow", "2.2.1", "2.1.1",
         example=RESERVE_221, patch={"reservation_id": "RES-A"},
         context=TranslationContext(reservation_id=4), expect={"reservation_id": 4},
         losses=(("reservation_id", APPROXIMATED, "RES-A", 4),)),
    Case("a reservation id with no allocated int is refused", "ReserveNow", "2.2.1", "2.1.1",
         example=RESERVE_221, patch={"reservation_id": "007"}, refused="reservation_id_not_int"),
    Case("a 2.1.1 answer gets the configured timeout", "CommandResponse", "2.1.1", "2.2.1",
         example={"result": "ACCEPTED"}, context=TranslationContext(command_timeout=30),
         expect={"result": "ACCEPTED", "timeout": 30}),
    Case("a 2.1.1 synchronous TIMEOUT is a rejection", "CommandResponse", "2.1.1", "2.2.1",
         example={"result": "ACCEPTED"}, patch={"result": "TIMEOUT"},
         expect={"result": "REJECTED"}, losses=(("result", APPROXIMATED, "TIMEOUT", "REJECTED"),)),
    Case("timeout and message are dropped for 2.1.1", "CommandResponse", "2.2.1", "2.1.1",
         example={"result": "ACCEPTED", "timeout": 30},
         patch={"message": [{"language": "en", "text": "ok"}]},
         losses=(("message", DROPPED, [{"language": "en", "text": "ok"}], None),)),
    Case("a 2.1.1 async UNKNOWN_SESSION is a failure", "CommandResult", "2.1.1", "2.2.1",
         example={"result": "ACCEPTED"}, patch={"result": "UNKNOWN_SESSION"},
         expect={"result": "FAILED"},
         losses=(("result", APPROXIMATED, "UNKNOWN_SESSION", "FAILED"),)),
    Case("a 2.1.1 async TIMEOUT stays a timeout", "CommandResult", "2.1.1", "2.2.1",
         example={"result": "ACCEPTED"}, patch={"result": "TIMEOUT"},
         expect={"result": "TIMEOUT"}),
    Case("an occupied EVSE is a rejection in 2.1.1", "CommandResult", "2.2.1", "2.1.1",
         example={"result": "ACCEPTED"}, patch={"result": "EVSE_OCCUPIED"},
         expect={"result": "REJECTED"},
         losses=(("result", APPROXIMATED, "EVSE_OCCUPIED", "REJECTED"),)),
    Case("a cancelled reservation is a rejection in 2.1.1", "CommandResult", "2.2.1", "2.1.1",
         example={"result": "ACCEPTED"}, patch={"result": "CANCELED_RESERVATION"},
         expect={"result": "REJECTED"},
         losses=(("result", APPROXIMATED, "CANCELED_RESERVATION", "REJECTED"),)),
    # -- credentials
    Case("2.1.1 credentials become one role, from the invitation", "Credentials", "2.1.1",
         "2.2.1", example=CREDENTIALS_211, context=TranslationContext(role=Role.CPO),
         expect={"roles": CREDENTIALS_221["roles"], "party_id": ABSENT},
         losses=()),
    Case("2.1.1 credentials without a known role are refused", "Credentials", "2.1.1", "2.2.1",
         example=CREDENTIALS_211, refused="role_unknown"),
    Case("one role becomes the 2.1.1 party", "Credentials", "2.2.1", "2.1.1",
         example=CREDENTIALS_221, expect=CREDENTIALS_211),
    Case("several roles are refused for 2.1.1", "Credentials", "2.2.1", "2.1.1",
         example=CREDENTIALS_221,
         patch={"roles": [*CREDENTIALS_221["roles"], {**CREDENTIALS_221["roles"][0],
                                                       "role": "EMSP"}]},
         refused="several_roles"),
    Case("a 2.2.1 HUB role becomes hub_party_id", "Credentials", "2.2.1", "2.3.0",
         example=CREDENTIALS_221, patch={"roles": [HUB_ROLE, CREDENTIALS_221["roles"][0]]},
         expect={"hub_party_id": "NLHUB", "roles": CREDENTIALS_221["roles"]},
         losses=(("roles[0]", APPROXIMATED, HUB_ROLE, {"hub_party_id": "NLHUB"}),)),
    Case("credentials of only a HUB role are refused for 2.3.0", "Credentials", "2.2.1",
         "2.3.0", example=CREDENTIALS_221, patch={"roles": [HUB_ROLE]}, refused="no_role_left"),
    Case("hub_party_id is dropped for 2.2.1", "Credentials", "2.3.0", "2.2.1",
         example=CREDENTIALS_221, patch={"hub_party_id": "NLHUB"},
         losses=(("hub_party_id", DROPPED, "NLHUB", None),)),
    # -- charging profiles: the same in 2.2.1 and 2.3.0
    Case("a charging profile is carried to 2.3.0", "SetChargingProfile", "2.2.1", "2.3.0",
         example={"response_url": URL, "charging_profile": {
             "charging_rate_unit": "W", "charging_profile_period": [
                 {"start_period": 0, "limit": 11000}]}},
         expect={"charging_profile.charging_profile_period[0].limit": 11000}),
]  # fmt: skip


def test_the_role_of_2_1_1_credentials_is_reported_as_taken_from_the_invitation():
    result = translate(
        "Credentials", CREDENTIALS_211, "2.1.1", "2.2.1", TranslationContext(role=Role.EMSP)
    )
    assert [(loss.path, loss.kind, loss.target_value) for loss in result.losses] == [
        ("roles[0].role", DEFAULTED, "EMSP")
    ]


def test_the_role_of_2_2_1_credentials_is_reported_dropped_for_2_1_1():
    result = translate("Credentials", CREDENTIALS_221, "2.2.1", "2.1.1")
    assert [(loss.path, loss.kind, loss.source_value) for loss in result.losses] == [
        ("roles[0].role", DROPPED, "CPO")
    ]


@pytest.mark.parametrize(
    "kind", ["CancelReservation", "SetChargingProfile", "ChargingProfileResponse"]
)
def test_objects_2_1_1_lacks_are_refused_as_absent(kind):
    with pytest.raises(UntranslatableError) as refusal:
        translate(kind, {}, "2.2.1", "2.1.1")
    assert refusal.value.reason == "absent_in_version"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_command_or_credentials_field(case):
    run(case)
