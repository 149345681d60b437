"""Valid OCPI sample objects carrying every field the spec marks required (digest §6):
2.2.1 first, then the 2.1.1 and 2.3.0 shapes."""

from __future__ import annotations

from typing import Any

from simulator.envelope import ocpi_now

Json = dict[str, Any]


def _stamp(last_updated: str | None) -> str:
    return last_updated or ocpi_now()


def connector(connector_id: str = "1", *, last_updated: str | None = None) -> Json:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "last_updated": _stamp(last_updated),
    }


def evse(
    country_code: str,
    party_id: str,
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    *,
    status: str = "AVAILABLE",
    last_updated: str | None = None,
) -> Json:
    stamp = _stamp(last_updated)
    return {
        "uid": evse_uid,
        "evse_id": f"{country_code}*{party_id}*E{evse_uid}",
        "status": status,
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": [connector(connector_id, last_updated=stamp)],
        "last_updated": stamp,
    }


def location(
    country_code: str,
    party_id: str,
    location_id: str = "LOC1",
    *,
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    last_updated: str | None = None,
) -> Json:
    stamp = _stamp(last_updated)
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": location_id,
        "publish": True,
        "name": f"Simulated location {location_id}",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.37902", "longitude": "4.90035"},
        "parking_type": "ON_STREET",
        "evses": [evse(country_code, party_id, evse_uid, connector_id, last_updated=stamp)],
        "time_zone": "Europe/Amsterdam",
        "last_updated": stamp,
    }


def tariff(
    country_code: str,
    party_id: str,
    tariff_id: str = "TARIFF1",
    *,
    currency: str = "EUR",
    last_updated: str | None = None,
) -> Json:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": tariff_id,
        "currency": currency,
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1}]}
        ],
        "last_updated": _stamp(last_updated),
    }


def contract_id(country_code: str, party_id: str, uid: str) -> str:
    return f"{country_code}-{party_id}-C{uid}"[:36]


def token(
    country_code: str,
    party_id: str,
    uid: str = "TOKEN1",
    *,
    token_type: str = "RFID",
    valid: bool = True,
    last_updated: str | None = None,
) -> Json:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "uid": uid,
        "type": token_type,
        "contract_id": contract_id(country_code, party_id, uid),
        "issuer": f"Simulated eMSP {country_code}*{party_id}",
        "valid": valid,
        "whitelist": "ALLOWED",
        "last_updated": _stamp(last_updated),
    }


def cdr_token(emsp: tuple[str, str], uid: str = "TOKEN1", token_type: str = "RFID") -> Json:
    # country_code/party_id name the token owner (eMSP): that is how a hub routes a CDR
    return {
        "country_code": emsp[0],
        "party_id": emsp[1],
        "uid": uid,
        "type": token_type,
        "contract_id": contract_id(emsp[0], emsp[1], uid),
    }


def session(
    country_code: str,
    party_id: str,
    session_id: str = "SESSION1",
    *,
    emsp: tuple[str, str],
    token_uid: str = "TOKEN1",
    location_id: str = "LOC1",
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    status: str = "ACTIVE",
    start_date_time: str = "2024-01-01T10:00:00Z",
    last_updated: str | None = None,
) -> Json:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": session_id,
        "start_date_time": start_date_time,
        "kwh": 0.0,
        "cdr_token": cdr_token(emsp, token_uid),
        "auth_method": "WHITELIST",
        "location_id": location_id,
        "evse_uid": evse_uid,
        "connector_id": connector_id,
        "currency": "EUR",
        "status": status,
        "last_updated": _stamp(last_updated),
    }


def cdr(
    country_code: str,
    party_id: str,
    cdr_id: str = "CDR1",
    *,
    emsp: tuple[str, str],
    token_uid: str = "TOKEN1",
    location_id: str = "LOC1",
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    start_date_time: str = "2024-01-01T10:00:00Z",
    end_date_time: str = "2024-01-01T11:00:00Z",
    last_updated: str | None = None,
) -> Json:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": cdr_id,
        "start_date_time": start_date_time,
        "end_date_time": end_date_time,
        "session_id": "SESSION1",
        "cdr_token": cdr_token(emsp, token_uid),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": location_id,
            "address": "Stationsplein 1",
            "city": "Amsterdam",
            "postal_code": "1012AB",
            "country": "NLD",
            "coordinates": {"latitude": "52.37902", "longitude": "4.90035"},
            "evse_uid": evse_uid,
            "evse_id": f"{country_code}*{party_id}*E{evse_uid}",
            "connector_id": connector_id,
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": start_date_time, "dimensions": [{"type": "ENERGY", "volume": 10.0}]}
        ],
        "total_cost": {"excl_vat": 2.5, "incl_vat": 3.03},
        "total_energy": 10.0,
        "total_time": 1.0,
        "last_updated": _stamp(last_updated),
    }


def start_session(
    response_url: str,
    token_obj: Json,
    location_id: str = "LOC1",
    evse_uid: str | None = "EVSE1",
    connector_id: str | None = None,
) -> Json:
    command: Json = {"response_url": response_url, "token": token_obj, "location_id": location_id}
    if evse_uid is not None:
        command["evse_uid"] = evse_uid
        if connector_id is not None:
            command["connector_id"] = connector_id
    return command


def stop_session(response_url: str, session_id: str) -> Json:
    return {"response_url": response_url, "session_id": session_id}


def charging_profile(limit: float = 11000.0, unit: str = "W") -> Json:
    return {
        "charging_rate_unit": unit,
        "charging_profile_period": [{"start_period": 0, "limit": limit}],
    }


def set_charging_profile(response_url: str, profile: Json | None = None) -> Json:
    return {"charging_profile": profile or charging_profile(), "response_url": response_url}


# -- OCPI 2.1.1 and 2.3.0 shapes (versions digest §5) -----------------------------------------
# 2.1.1 objects carry no owner ids (the connection says whose they are); sessions and CDRs embed
# the Location and name the token by `auth_id`; money is a bare number excluding VAT.


def _coordinates_211() -> Json:
    return {"latitude": "52.379020", "longitude": "4.900350"}  # 2.1.1: exactly 6 decimals


def connector_211(connector_id: str = "1", *, last_updated: str | None = None) -> Json:
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "voltage": 230,
        "amperage": 32,
        "last_updated": _stamp(last_updated),
    }


def evse_211(
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    *,
    evse_id: str | None = None,
    status: str = "AVAILABLE",
    last_updated: str | None = None,
) -> Json:
    stamp = _stamp(last_updated)
    found: Json = {
        "uid": evse_uid,
        "status": status,
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER"],
        "connectors": [connector_211(connector_id, last_updated=stamp)],
        "last_updated": stamp,
    }
    if evse_id is not None:
        found["evse_id"] = evse_id
    return found


def location_211(
    location_id: str = "LOC1",
    *,
    evse_uid: str = "EVSE1",
    connector_id: str = "1",
    last_updated: str | None = None,
) -> Json:
    stamp = _stamp(last_updated)
    return {
        "id": location_id,
        "type": "ON_STREET",
        "name": f"Simulated location {location_id}",
        "address": "Stationsplein 1",
        "city": "Amsterdam",
        "postal_code": "1012AB",
        "country": "NLD",
        "coordinates": _coordinates_211(),
        "evses": [evse_211(evse_uid, connector_id, last_updated=stamp)],
        "time_zone": "Europe/Amsterdam",
        "last_updated": stamp,
    }


def tariff_211(tariff_id: str = "TARIFF1", *, last_updated: str | None = None) -> Json:
    return {
        "id": tariff_id,
        "currency": "EUR",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}],
        "last_updated": _stamp(last_updated),
    }


def token_211(
    uid: str = "TOKEN1",
    *,
    auth_id: str = "NL-EMS-C00000001",
    valid: bool = True,
    last_updated: str | None = None,
) -> Json:
    return {
        "uid": uid,
        "type": "RFID",
        "auth_id": auth_id,
        "issuer": "Simulated 2.1.1 eMSP",
        "valid": valid,
        "whitelist": "ALLOWED",
        "last_updated": _stamp(last_updated),
    }


def session_211(
    session_id: str = "SESSION1",
    *,
    auth_id: str = "NL-EMS-C00000001",
    location: Json | None = None,
    status: str = "ACTIVE",
    start_datetime: str = "2024-01-01T10:00:00Z",
    last_updated: str | None = None,
) -> Json:
    return {
        "id": session_id,
        "start_datetime": start_datetime,
        "kwh": 0.0,
        "auth_id": auth_id,
        "auth_method": "WHITELIST",
        "location": location or location_211(),  # only the EVSE and connector in use
        "currency": "EUR",
        "status": status,
        "last_updated": _stamp(last_updated),
    }


def cdr_211(
    cdr_id: str = "CDR1",
    *,
    auth_id: str = "NL-EMS-C00000001",
    location: Json | None = None,
    start_date_time: str = "2024-01-01T10:00:00Z",
    stop_date_time: str = "2024-01-01T11:00:00Z",
    last_updated: str | None = None,
) -> Json:
    return {
        "id": cdr_id,
        "start_date_time": start_date_time,
        "stop_date_time": stop_date_time,
        "auth_id": auth_id,
        "auth_method": "WHITELIST",
        "location": location or location_211(),
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": start_date_time, "dimensions": [{"type": "ENERGY", "volume": 10.0}]}
        ],
        "total_cost": 2.5,
        "total_energy": 10.0,
        "total_time": 1.0,
        "last_updated": _stamp(last_updated),
    }


def tariff_230(
    country_code: str, party_id: str, tariff_id: str = "TARIFF1", **options: Any
) -> Json:
    """2.3.0 says whether prices include taxes; these (as 2.2.1's) do not."""
    return {**tariff(country_code, party_id, tariff_id, **options), "tax_included": "NO"}


def cdr_230(country_code: str, party_id: str, cdr_id: str = "CDR1", **options: Any) -> Json:
    """2.3.0 Price: `before_taxes` and the taxes levied, instead of excl/incl VAT."""
    found = cdr(country_code, party_id, cdr_id, **options)
    found["total_cost"] = {"before_taxes": 2.5, "taxes": [{"name": "VAT", "amount": 0.53}]}
    return found


SAMPLES_BY_VERSION = {
    "2.1.1": ("location_211", "tariff_211", "token_211", "session_211", "cdr_211"),
    "2.2.1": ("location", "tariff", "token", "session", "cdr"),
    "2.3.0": ("location", "tariff_230", "token", "session", "cdr_230"),
}
"""Which sample builds each module's object in each version (2.3.0 sessions, locations and
tokens read as 2.2.1's: the AFIR additions are optional)."""
