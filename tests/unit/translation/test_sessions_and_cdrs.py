"""Sessions and CDRs, field by field, between 2.1.1, 2.2.1 and 2.3.0."""

import pytest

from domain.translation import TranslationContext
from domain.values import PartyRef
from tests.unit.translation.examples import (
    ABSENT,
    APPROXIMATED,
    CDR_211,
    CDR_221,
    CDR_230,
    CDR_LOCATION,
    CDR_TOKEN,
    DEFAULTED,
    DROPPED,
    LOCATION_221,
    PERIOD,
    SESSION_211,
    SESSION_221,
    SESSION_230,
    TARIFF_221,
    Case,
    run,
)

KNOWN_TOKEN = TranslationContext(owner=PartyRef("NL", "CPO"), cdr_token=CDR_TOKEN)
ROUTED_TO_MSP = TranslationContext(owner=PartyRef("NL", "CPO"), token_owner=PartyRef("DE", "XYZ"))
STORED = TranslationContext(location=LOCATION_221)
SYNTHETIC_TOKEN = {
    "country_code": "DE",
    "party_id": "XYZ",
    "uid": "NL-MSP-C12345678-X",
    "type": "OTHER",
    "contract_id": "NL-MSP-C12345678-X",
}
IDS = {"location_id": "LOC-1", "evse_uid": "EVSE-1", "connector_id": "1"}
S_UP = {"kind": "Session", "source": "2.1.1", "target": "2.2.1", "example": SESSION_211}
S_DOWN = {"kind": "Session", "source": "2.2.1", "target": "2.1.1", "example": SESSION_221}
C_UP = {"kind": "Cdr", "source": "2.1.1", "target": "2.2.1", "example": CDR_211}
C_DOWN = {"kind": "Cdr", "source": "2.2.1", "target": "2.1.1", "example": CDR_221}
PERIOD_WITH_FLAT = {
    "start_date_time": PERIOD["start_date_time"],
    "dimensions": [{"type": "FLAT", "volume": 1}, {"type": "ENERGY", "volume": 3}],
}

CASES = [
    # -- sessions 2.1.1 -> 2.2.1
    Case("start and end datetimes are renamed", **S_UP, context=KNOWN_TOKEN,
         patch={"end_datetime": "2025-03-01T11:00:00Z"},
         expect={"start_date_time": SESSION_211["start_datetime"],
                 "end_date_time": "2025-03-01T11:00:00Z", "start_datetime": ABSENT}),
    Case("kwh is carried", **S_UP, context=KNOWN_TOKEN, expect={"kwh": 12.5}),
    Case("the owner is the CPO of the connection", **S_UP, context=KNOWN_TOKEN,
         expect={"country_code": "NL", "party_id": "CPO"}),
    Case("auth_id becomes the indexed token", **S_UP, context=KNOWN_TOKEN,
         expect={"cdr_token": CDR_TOKEN, "auth_id": ABSENT}),
    Case("an auth_id not in the index becomes a token of the routed eMSP", **S_UP,
         context=ROUTED_TO_MSP, expect={"cdr_token": SYNTHETIC_TOKEN}),
    Case("an auth_id nobody owns is refused", **S_UP,
         context=TranslationContext(owner=PartyRef("NL", "CPO")), refused="token_unknown"),
    Case("the embedded location becomes three ids", **S_UP, context=KNOWN_TOKEN, expect=IDS),
    Case("a location without EVSE is refused", **S_UP, context=KNOWN_TOKEN,
         patch={"location.evses": []}, refused="location_incomplete"),
    Case("total_cost becomes a price excluding VAT", **S_UP, context=KNOWN_TOKEN,
         expect={"total_cost": {"excl_vat": 4.5}}),
    Case("a FLAT dimension is left out", **S_UP, context=KNOWN_TOKEN,
         patch={"charging_periods": [PERIOD_WITH_FLAT]},
         expect={"charging_periods[0].dimensions": [{"type": "ENERGY", "volume": 3}]},
         losses=(("charging_periods[0].dimensions[0]", DROPPED, {"type": "FLAT", "volume": 1},
                  None),)),
    # -- sessions 2.2.1 -> 2.1.1
    Case("cdr_token becomes auth_id, the rest of it is dropped", **S_DOWN, context=STORED,
         expect={"auth_id": "NL-MSP-C12345678-X"},
         losses=()),
    Case("the stored location is embedded with the EVSE and connector used", **S_DOWN,
         context=STORED,
         expect={"location.id": "LOC-1", "location.evses[0].uid": "EVSE-1",
                 "location.evses[0].connectors[0].voltage": 230, "location.type": "ON_STREET"}),
    Case("a session at a location the hub does not store is refused", **S_DOWN,
         refused="location_unknown"),
    Case("a session at a connector the store lacks is refused", **S_DOWN, context=STORED,
         patch={"connector_id": "9"}, refused="connector_unknown"),
    Case("the authorization reference is dropped", **S_DOWN, context=STORED,
         patch={"authorization_reference": "REF-1"},
         losses=(("authorization_reference", DROPPED, "REF-1", None),)),
    Case("incl_vat is dropped from the cost", **S_DOWN, context=STORED,
         patch={"total_cost": {"excl_vat": 4.5, "incl_vat": 5.45}},
         expect={"total_cost": 4.5}, losses=(("total_cost.incl_vat", DROPPED, 5.45, None),)),
    Case("a reservation session is pending", **S_DOWN, context=STORED,
         patch={"status": "RESERVATION"}, expect={"status": "PENDING"},
         losses=(("status", APPROXIMATED, "RESERVATION", "PENDING"),)),
    Case("a session started by command was authorised by request", **S_DOWN, context=STORED,
         patch={"auth_method": "COMMAND"}, expect={"auth_method": "AUTH_REQUEST"},
         losses=(("auth_method", APPROXIMATED, "COMMAND", "AUTH_REQUEST"),)),
    Case("a charging period's tariff id is dropped", **S_DOWN, context=STORED,
         patch={"charging_periods[0].tariff_id": "T1"},
         losses=(("charging_periods[0].tariff_id", DROPPED, "T1", None),)),
    Case("a session-only dimension is dropped; an empty period goes too", **S_DOWN,
         context=STORED,
         patch={"charging_periods": [PERIOD, {"start_date_time": PERIOD["start_date_time"],
                                              "dimensions": [{"type": "STATE_OF_CHARGE",
                                                              "volume": 80}]}]},
         expect={"charging_periods": [PERIOD]},
         losses=(("charging_periods[1]", DROPPED,
                  {"start_date_time": PERIOD["start_date_time"],
                   "dimensions": [{"type": "STATE_OF_CHARGE", "volume": 80}]}, None),)),
    # -- sessions 2.2.1 <-> 2.3.0
    Case("a 2.2.1 cost with VAT is a 2.3.0 cost with one VAT line", "Session", "2.2.1", "2.3.0",
         example=SESSION_221, patch={"total_cost": {"excl_vat": 0.1, "incl_vat": 0.3}},
         expect={"total_cost": {"before_taxes": 0.1, "taxes": [{"name": "VAT", "amount": 0.2}]}}),
    Case("2.3.0 taxes add up to the 2.2.1 incl_vat", "Session", "2.3.0", "2.2.1",
         example=SESSION_230,
         patch={"total_cost": {"before_taxes": 10, "taxes": [
             {"name": "State tax", "amount": 0.6, "percentage": 6},
             {"name": "City tax", "amount": 0.25}]}},
         expect={"total_cost": {"excl_vat": 10, "incl_vat": 10.85}},
         losses=(("total_cost.taxes", APPROXIMATED,
                  [{"name": "State tax", "amount": 0.6, "percentage": 6},
                   {"name": "City tax", "amount": 0.25}], 10.85),)),
    Case("one plain VAT line is carried exactly", "Session", "2.3.0", "2.2.1",
         example=SESSION_230,
         patch={"total_cost": {"before_taxes": 10, "taxes": [{"name": "VAT", "amount": 2.1}]}},
         expect={"total_cost": {"excl_vat": 10, "incl_vat": 12.1}}),
    # -- CDRs 2.1.1 -> 2.2.1
    Case("stop_date_time becomes end_date_time", **C_UP, context=KNOWN_TOKEN,
         expect={"end_date_time": "2025-03-01T11:00:00Z", "stop_date_time": ABSENT}),
    Case("the embedded location becomes a CDR location", **C_UP, context=KNOWN_TOKEN,
         expect={"cdr_location": CDR_LOCATION}),
    Case("the CPO's tariffs are carried with its ids", **C_UP, context=KNOWN_TOKEN,
         patch={"tariffs": [{"id": "T1", "currency": "EUR", "last_updated": PERIOD[
             "start_date_time"], "elements": [{"price_components": [
                 {"type": "FLAT", "price": 1, "step_size": 1}]}]}]},
         expect={"tariffs[0].country_code": "NL", "tariffs[0].party_id": "CPO"}),
    Case("a CDR whose only dimensions are FLAT is refused", **C_UP, context=KNOWN_TOKEN,
         patch={"charging_periods": [{"start_date_time": PERIOD["start_date_time"],
                                       "dimensions": [{"type": "FLAT", "volume": 1}]}]},
         refused="nothing_left"),
    # -- CDRs 2.2.1 -> 2.1.1
    Case("the CDR location becomes an embedded location from the store", **C_DOWN,
         context=STORED,
         expect={"location.id": "LOC-1", "location.type": "ON_STREET",
                 "location.evses[0].evse_id": "NL*CPO*E1", "location.evses[0].status":
                 "AVAILABLE", "location.evses[0].connectors[0].voltage": 230,
                 "location.evses[0].connectors[0].amperage": 32}),
    Case("without a stored location, what 2.1.1 requires is defaulted", **C_DOWN,
         expect={"location.type": "UNKNOWN", "location.evses[0].status": "UNKNOWN",
                 "location.evses[0].connectors[0].voltage": 0}),
    Case("the CDR location's state is dropped", **C_DOWN, context=STORED,
         patch={"cdr_location.state": "UT"},
         losses=(("cdr_location.state", DROPPED, "UT", None),)),
    Case("a CDR location of a standard 2.1.1 lacks is refused", **C_DOWN, context=STORED,
         patch={"cdr_location.connector_standard": "GBT_DC"}, refused="enum_value_unknown"),
    Case("signed data is dropped", **C_DOWN, context=STORED,
         patch={"signed_data": {"encoding_method": "OCMF", "signed_values": []}},
         losses=(("signed_data", DROPPED, {"encoding_method": "OCMF", "signed_values": []},
                  None),)),
    Case("component costs are dropped", **C_DOWN, context=STORED,
         patch={"total_energy_cost": {"excl_vat": 3}},
         losses=(("total_energy_cost", DROPPED, {"excl_vat": 3}, None),)),
    Case("the session id is dropped", **C_DOWN, context=STORED, patch={"session_id": "S-1"},
         losses=(("session_id", DROPPED, "S-1", None),)),
    Case("a credit CDR is refused", **C_DOWN, context=STORED, patch={"credit": True},
         refused="credit_cdr"),
    Case("a 37-character CDR id is refused", **C_DOWN, context=STORED,
         patch={"id": "C" * 37}, refused="too_long"),
    Case("a tariff 2.1.1 cannot express is left out of the CDR", **C_DOWN, context=STORED,
         patch={"tariffs": [{**TARIFF_221, "elements": [{**TARIFF_221["elements"][0],
                                                          "restrictions": {"max_current": 6}}]}]},
         expect={"tariffs": []},
         losses=(("tariffs[0]", DROPPED, {**TARIFF_221, "elements": [
             {**TARIFF_221["elements"][0], "restrictions": {"max_current": 6}}]}, None),)),
    # -- CDRs 2.2.1 <-> 2.3.0
    Case("every CDR cost is a 2.3.0 price", "Cdr", "2.2.1", "2.3.0", example=CDR_221,
         patch={"total_time_cost": {"excl_vat": 1, "incl_vat": 1.21}},
         expect={"total_cost": {"before_taxes": 4.5},
                 "total_time_cost": {"before_taxes": 1, "taxes": [{"name": "VAT",
                                                                    "amount": 0.21}]}}),
    Case("a 2.3.0 CDR's tariffs lose their tax_included NO silently", "Cdr", "2.3.0", "2.2.1",
         example=CDR_230, patch={"tariffs": [{**TARIFF_221, "tax_included": "NO"}]},
         expect={"tariffs": [TARIFF_221]}),
]  # fmt: skip


def test_a_2_1_1_evse_without_evse_id_is_reported_as_defaulted_to_na():
    from domain.translation import translate

    cdr = {**CDR_211, "location": {**CDR_211["location"], "evses": [
        {key: value for key, value in CDR_211["location"]["evses"][0].items() if key != "evse_id"}
    ]}}  # fmt: skip
    result = translate("Cdr", cdr, "2.1.1", "2.2.1", KNOWN_TOKEN)
    assert result.body["cdr_location"]["evse_id"] == "#NA"
    assert ("location.evses[0].evse_id", DEFAULTED, "#NA") in [
        (loss.path, loss.kind, loss.target_value) for loss in result.losses
    ]


def test_the_defaulted_parts_of_a_cdr_location_are_reported():
    from domain.translation import translate

    result = translate("Cdr", CDR_221, "2.2.1", "2.1.1")
    defaulted = {loss.path for loss in result.losses if loss.kind is DEFAULTED}
    assert defaulted == {
        "cdr_location.voltage",
        "cdr_location.amperage",
        "cdr_location.type",
        "cdr_location.evse_status",
    }


def test_the_cdr_token_members_2_1_1_lacks_are_reported_dropped():
    from domain.translation import translate

    result = translate("Session", SESSION_221, "2.2.1", "2.1.1", STORED)
    assert {loss.path for loss in result.losses} == {
        "country_code",
        "party_id",
        "cdr_token.country_code",
        "cdr_token.party_id",
        "cdr_token.uid",
        "cdr_token.type",
    }


@pytest.mark.parametrize("case", CASES, ids=str)
def test_session_or_cdr_field(case):
    run(case)


def test_a_stored_location_without_parking_type_reports_the_cdr_location_type_defaulted():
    from domain.translation import translate

    stored = {key: value for key, value in LOCATION_221.items() if key != "parking_type"}
    result = translate("Cdr", CDR_221, "2.2.1", "2.1.1", TranslationContext(location=stored))
    assert result.body["location"]["type"] == "UNKNOWN"
    assert [(loss.path, loss.kind) for loss in result.losses if loss.kind is DEFAULTED] == [
        ("cdr_location.type", DEFAULTED)
    ]
