import pytest

from simulator import samples

CPO = ("NL", "CPO")
EMSP = ("DE", "MSP")

# Required (cardinality 1 / +) fields per OCPI 2.2.1, digest §6
LOCATION = {
    "country_code",
    "party_id",
    "id",
    "publish",
    "address",
    "city",
    "country",
    "coordinates",
    "time_zone",
    "last_updated",
}
EVSE = {"uid", "status", "connectors", "last_updated"}
CONNECTOR = {
    "id",
    "standard",
    "format",
    "power_type",
    "max_voltage",
    "max_amperage",
    "last_updated",
}
TARIFF = {"country_code", "party_id", "id", "currency", "elements", "last_updated"}
PRICE_COMPONENT = {"type", "price", "step_size"}
TOKEN = {
    "country_code",
    "party_id",
    "uid",
    "type",
    "contract_id",
    "issuer",
    "valid",
    "whitelist",
    "last_updated",
}
CDR_TOKEN = {"country_code", "party_id", "uid", "type", "contract_id"}
SESSION = {
    "country_code",
    "party_id",
    "id",
    "start_date_time",
    "kwh",
    "cdr_token",
    "auth_method",
    "location_id",
    "evse_uid",
    "connector_id",
    "currency",
    "status",
    "last_updated",
}
CDR = {
    "country_code",
    "party_id",
    "id",
    "start_date_time",
    "end_date_time",
    "cdr_token",
    "auth_method",
    "cdr_location",
    "currency",
    "charging_periods",
    "total_cost",
    "total_energy",
    "total_time",
    "last_updated",
}
CDR_LOCATION = {
    "id",
    "address",
    "city",
    "country",
    "coordinates",
    "evse_uid",
    "evse_id",
    "connector_id",
    "connector_standard",
    "connector_format",
    "connector_power_type",
}
START_SESSION = {"response_url", "token", "location_id"}


def _missing(obj: dict, required: set[str]) -> set[str]:
    return {f for f in required if obj.get(f) in (None, [], "")}


def test_a_location_carries_every_required_field_down_to_the_connector():
    location = samples.location(*CPO)
    assert _missing(location, LOCATION) == set()
    assert _missing(location["evses"][0], EVSE) == set()
    assert _missing(location["evses"][0]["connectors"][0], CONNECTOR) == set()
    assert len(location["evses"]) == 1 and len(location["evses"][0]["connectors"]) == 1


def test_geolocations_match_the_ocpi_patterns():
    coordinates = samples.location(*CPO)["coordinates"]
    assert coordinates["latitude"].split(".")[1].isdigit()
    assert 5 <= len(coordinates["latitude"].split(".")[1]) <= 7
    assert 5 <= len(coordinates["longitude"].split(".")[1]) <= 7


def test_a_tariff_carries_every_required_field():
    tariff = samples.tariff(*CPO)
    assert _missing(tariff, TARIFF) == set()
    assert _missing(tariff["elements"][0]["price_components"][0], PRICE_COMPONENT) == set()


def test_a_token_carries_every_required_field():
    assert _missing(samples.token(*EMSP), TOKEN) == set()


def test_a_session_carries_every_required_field_and_names_the_emsp():
    session = samples.session(*CPO, emsp=EMSP)
    assert _missing(session, SESSION) == set()
    assert _missing(session["cdr_token"], CDR_TOKEN) == set()
    assert (session["cdr_token"]["country_code"], session["cdr_token"]["party_id"]) == EMSP


def test_a_cdr_carries_every_required_field_and_names_the_emsp_in_its_token():
    cdr = samples.cdr(*CPO, emsp=EMSP)
    assert _missing(cdr, CDR) == set()
    assert _missing(cdr["cdr_location"], CDR_LOCATION) == set()
    assert _missing(cdr["cdr_token"], CDR_TOKEN) == set()
    assert (cdr["cdr_token"]["country_code"], cdr["cdr_token"]["party_id"]) == EMSP
    assert cdr["charging_periods"][0]["dimensions"]


def test_a_start_session_carries_every_required_field():
    command = samples.start_session("http://x/r/1", samples.token(*EMSP), "LOC1")
    assert _missing(command, START_SESSION) == set()


@pytest.mark.parametrize(
    "stamp",
    [samples.location(*CPO)["last_updated"], samples.token(*EMSP)["last_updated"]],
    ids=["location", "token"],
)
def test_timestamps_are_utc_with_z_not_an_offset(stamp: str):
    assert stamp.endswith("Z") and "+" not in stamp and len(stamp) <= 25
