"""OCPI 2.2.1 objects the interop platforms own and exchange (valid for the library's schemas)."""

from __future__ import annotations

from typing import Any

NOW = "2026-12-01T12:00:00Z"
COORDINATES = {"latitude": "52.370216", "longitude": "4.895168"}


def location(country_code: str, party_id: str, location_id: str) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": location_id,
        "publish": True,
        "name": f"Interop {location_id}",
        "address": "Dam 1",
        "city": "Amsterdam",
        "postal_code": "1012JS",
        "country": "NLD",
        "coordinates": COORDINATES,
        "evses": [
            {
                "uid": f"{location_id}-E1",
                "evse_id": f"{country_code}*{party_id}*E{location_id}1",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 32,
                        "last_updated": NOW,
                    }
                ],
                "last_updated": NOW,
            }
        ],
        "time_zone": "Europe/Amsterdam",
        "last_updated": NOW,
    }


def token(country_code: str, party_id: str, uid: str) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "uid": uid,
        "type": "RFID",
        "contract_id": f"{country_code}-{party_id}-C{uid}",
        "issuer": "Interop eMSP",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": NOW,
    }


def cdr_token(emsp_token: dict[str, Any]) -> dict[str, Any]:
    keys = ("country_code", "party_id", "uid", "type", "contract_id")
    return {key: emsp_token[key] for key in keys}


def _charging(
    country_code: str, party_id: str, object_id: str, emsp_token: dict[str, Any]
) -> dict[str, Any]:
    """What a session and its CDR both say: whose, which, and by which token and means."""
    return {
        "country_code": country_code,
        "party_id": party_id,
        "id": object_id,
        "cdr_token": cdr_token(emsp_token),
        "auth_method": "COMMAND",
        "currency": "EUR",
        "last_updated": NOW,
    }


def session(
    country_code: str, party_id: str, session_id: str, emsp_token: dict[str, Any], location_id: str
) -> dict[str, Any]:
    return {
        **_charging(country_code, party_id, session_id, emsp_token),
        "start_date_time": NOW,
        "kwh": 1.5,
        "location_id": location_id,
        "evse_uid": f"{location_id}-E1",
        "connector_id": "1",
        "status": "ACTIVE",
    }


def cdr(
    country_code: str, party_id: str, cdr_id: str, emsp_token: dict[str, Any], location_id: str
) -> dict[str, Any]:
    return {
        **_charging(country_code, party_id, cdr_id, emsp_token),
        "start_date_time": "2026-12-01T11:00:00Z",
        "end_date_time": NOW,
        "cdr_location": {
            "id": location_id,
            "address": "Dam 1",
            "city": "Amsterdam",
            "postal_code": "1012JS",
            "country": "NLD",
            "coordinates": COORDINATES,
            "evse_uid": f"{location_id}-E1",
            "evse_id": f"{country_code}*{party_id}*E{location_id}1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "charging_periods": [
            {
                "start_date_time": "2026-12-01T11:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 1.5}],
            }
        ],
        "total_cost": {"excl_vat": 0.75},
        "total_energy": 1.5,
        "total_time": 1.0,
    }


def start_session(response_url: str, emsp_token: dict[str, Any], location_id: str) -> dict:
    return {
        "response_url": response_url,
        "token": emsp_token,
        "location_id": location_id,
        "evse_uid": f"{location_id}-E1",
    }
