"""Charge detail records in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.6).

Like sessions, 2.1.1 CDRs name the token by `auth_id` and embed a Location; 2.2.1 has `cdr_token`
and a flat `CdrLocation`. A 2.1.1 embedded Location needs more than a CdrLocation says (location
type, EVSE status, connector voltage and amperage): taken from the hub's stored Location
(`context.location`) when it has that EVSE and connector, else defaulted and reported.
"""

from __future__ import annotations

from typing import Any

from domain.translation.common import (
    V211,
    V221,
    V230,
    number_to_price,
    owner_finish,
    price_to_number,
    same_id,
)
from domain.translation.engine import (
    ObjectRule,
    PairRules,
    Unrepresentable,
    Walk,
    rename,
    schema,
    values,
)
from domain.translation.sessions import auth_id_to_cdr_token, cdr_token_to_auth_id

_CHARGING_PERIOD_211 = schema("start_date_time dt!, dimensions CdrDimension+")
_CDR_DIMENSION = schema("type @CdrDimensionType!, volume num!")

OBJECTS = {
    V211: {
        "Cdr": schema(
            """id str(36)!, start_date_time dt!, stop_date_time dt!, auth_id str(36)!,
            auth_method @AuthMethod!, location Location!, meter_id str(255)?, currency str(3)!,
            tariffs Tariff*, charging_periods ChargingPeriod+, total_cost num!,
            total_energy num!, total_time num!, total_parking_time num?, remark str(255)?,
            last_updated dt!"""
        ),
        "ChargingPeriod": _CHARGING_PERIOD_211,
        "CdrDimension": _CDR_DIMENSION,
    },
    V221: {
        "Cdr": schema(
            """country_code str(2)!, party_id str(3)!, id str(39)!, start_date_time dt!,
            end_date_time dt!, session_id str(36)?, cdr_token CdrToken!,
            auth_method @AuthMethod!, authorization_reference str(36)?,
            cdr_location CdrLocation!, meter_id str(255)?, currency str(3)!, tariffs Tariff*,
            charging_periods ChargingPeriod+, signed_data SignedData?, total_cost Price!,
            total_fixed_cost Price?, total_energy num!, total_energy_cost Price?,
            total_time num!, total_time_cost Price?, total_parking_time num?,
            total_parking_cost Price?, total_reservation_cost Price?, remark str(255)?,
            invoice_reference_id str(39)?, credit bool?, credit_reference_id str(39)?,
            home_charging_compensation bool?, last_updated dt!"""
        ),
        "CdrLocation": schema(
            """id str(36)!, name str(255)?, address str(45)!, city str(45)!, postal_code str(10)?,
            state str(20)?, country str(3)!, coordinates GeoLocation!, evse_uid str(36)!,
            evse_id str(48)!, connector_id str(36)!, connector_standard @ConnectorType!,
            connector_format @ConnectorFormat!, connector_power_type @PowerType!"""
        ),
        "ChargingPeriod": schema(
            "start_date_time dt!, dimensions CdrDimension+, tariff_id str(36)?"
        ),
        "CdrDimension": _CDR_DIMENSION,
        "SignedData": schema(
            """encoding_method str(36)!, encoding_method_version int?, public_key str(512)?,
            signed_values SignedValue+, url str(512)?"""
        ),
        "SignedValue": schema("nature str(32)!, plain_data str(512)!, signed_data str(5000)!"),
    },
}
OBJECTS[V230] = dict(OBJECTS[V221])

_AUTH_METHODS_211 = values("AUTH_REQUEST WHITELIST")
_DIMENSIONS_221 = values(
    """CURRENT ENERGY ENERGY_EXPORT ENERGY_IMPORT MAX_CURRENT MIN_CURRENT MAX_POWER MIN_POWER
    PARKING_TIME POWER RESERVATION_TIME STATE_OF_CHARGE TIME"""
)
ENUMS = {
    V211: {
        "AuthMethod": _AUTH_METHODS_211,
        "CdrDimensionType": values("ENERGY FLAT MAX_CURRENT MIN_CURRENT PARKING_TIME TIME"),
    },
    V221: {"AuthMethod": _AUTH_METHODS_211 | {"COMMAND"}, "CdrDimensionType": _DIMENSIONS_221},
    V230: {"AuthMethod": _AUTH_METHODS_211 | {"COMMAND"}, "CdrDimensionType": _DIMENSIONS_221},
}

# CdrLocation member <- (EVSE or connector of the embedded 2.1.1 Location, member there)
_FROM_EVSE = {"evse_uid": "uid", "evse_id": "evse_id"}
_FROM_CONNECTOR = {
    "connector_id": "id",
    "connector_standard": "standard",
    "connector_format": "format",
    "connector_power_type": "power_type",
}
_FROM_LOCATION = ("id", "name", "address", "city", "postal_code", "country", "coordinates")


def _location_to_cdr_location(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    try:
        evse = value["evses"][0]
        connector = evse["connectors"][0]
    except (KeyError, IndexError, TypeError):
        raise Unrepresentable(
            path, "location_incomplete", "the embedded location names no EVSE and connector"
        ) from None
    cdr_location = {name: value[name] for name in _FROM_LOCATION if name in value}
    if cdr_location.get("postal_code") == "":
        del cdr_location["postal_code"]  # 2.1.1's empty string for "unknown": optional since
    cdr_location.update({name: evse[key] for name, key in _FROM_EVSE.items() if key in evse})
    cdr_location.update(
        {name: connector[key] for name, key in _FROM_CONNECTOR.items() if key in connector}
    )
    if "evse_id" not in cdr_location:
        cdr_location["evse_id"] = "#NA"  # required since 2.2; "#NA" is OCPI's "no data"
        walk.defaulted(f"{path}.evses[0].evse_id", "#NA")
    too_long = [key for key in ("id", "evse_uid") if len(str(cdr_location.get(key, ""))) > 36]
    if too_long:
        raise Unrepresentable(path, "too_long", f"{too_long} longer than a CiString(36)")
    out["cdr_location"] = cdr_location
    walk.approximated(path, value, cdr_location)


def _cdr_location_to_location(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    if not isinstance(value, dict):
        raise Unrepresentable(path, "not_an_object", "cdr_location is not an object")
    stored = _stored_connector(walk, value)
    location_type = (stored or {}).get("location_type")
    status = (stored or {}).get("status")
    if location_type is None:
        location_type = "UNKNOWN"  # 2.1.1's own "not known"; reported all the same
        walk.defaulted(f"{path}.type", location_type)
    if status is None:
        status = "UNKNOWN"
        walk.defaulted(f"{path}.evse_status", status)
    stamp = source.get("last_updated")
    connector: dict[str, Any] = {"id": value.get("connector_id")}
    for name, key in _FROM_CONNECTOR.items():
        if name != "connector_id" and name in value:
            converted = walk.enum(
                _ENUM_OF[name], _ENUM_OF[name], value[name], f"{path}.{name}", False, _REQUIRED
            )
            connector[key] = converted
    for name in ("voltage", "amperage"):
        if stored and stored.get(name) is not None:
            connector[name] = stored[name]
        else:
            connector[name] = 0
            walk.defaulted(f"{path}.{name}", 0)
    connector["last_updated"] = stamp
    evse = {"uid": value.get("evse_uid"), "status": status, "connectors": [connector]}
    if value.get("evse_id") not in (None, "#NA"):
        evse["evse_id"] = value["evse_id"]
    evse["last_updated"] = stamp
    location: dict[str, Any] = {"id": value.get("id"), "type": location_type}
    for name, member in value.items():
        at = f"{path}.{name}"
        if name in ("id", *_FROM_CONNECTOR, *_FROM_EVSE):
            continue
        if name in ("name", "address", "city", "postal_code", "country"):
            location[name] = member
        elif name == "coordinates" and isinstance(member, dict):
            location[name] = {
                key: walk.coordinate(text, f"{at}.{key}") if isinstance(text, str) else text
                for key, text in member.items()
            }
        else:
            walk.dropped(at, member)
    if "postal_code" not in location:
        location["postal_code"] = ""
        walk.defaulted(f"{path}.postal_code", "")
    location["evses"] = [evse]
    location["last_updated"] = stamp
    out["location"] = location


_ENUM_OF = {
    "connector_standard": "ConnectorType",
    "connector_format": "ConnectorFormat",
    "connector_power_type": "PowerType",
}
_REQUIRED = schema("value @ConnectorType!")["value"]


def _stored_connector(walk: Walk, cdr_location: dict[str, Any]) -> dict[str, Any] | None:
    """Location type, EVSE status, voltage and amperage of the CDR's connector in the hub's
    stored Location, when the store has that EVSE and connector."""
    stored = walk.context.location
    if not isinstance(stored, dict) or not same_id(stored.get("id"), cdr_location.get("id")):
        return None
    for evse in stored.get("evses") or []:
        if not same_id(evse.get("uid"), cdr_location.get("evse_uid")):
            continue
        for connector in evse.get("connectors") or []:
            if same_id(connector.get("id"), cdr_location.get("connector_id")):
                parking = stored.get("parking_type")
                return {
                    "location_type": parking if parking in _LOCATION_TYPES else None,
                    "status": evse.get("status"),
                    "voltage": connector.get("max_voltage"),
                    "amperage": connector.get("max_amperage"),
                }
    return None


_LOCATION_TYPES = values("ON_STREET PARKING_GARAGE UNDERGROUND_GARAGE PARKING_LOT")


def _credit_down(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """A credit CDR has no 2.1.1 form (a negative CDR would be read as a debit of the eMSP)."""
    if value is True:
        raise Unrepresentable(path, "credit_cdr", "a credit CDR cannot be expressed in 2.1.1")
    walk.dropped(path, value)


RULES = {
    (V211, V221): PairRules(
        objects={
            "Cdr": ObjectRule(
                fields={
                    "stop_date_time": rename("end_date_time"),
                    "auth_id": auth_id_to_cdr_token,
                    "location": _location_to_cdr_location,
                    "total_cost": number_to_price,
                },
                finish=owner_finish,
            ),
            # FLAT is no CdrDimensionType since 2.2: such a dimension is left out, and a period
            # left with none goes too.
            "CdrDimension": ObjectRule(droppable=True),
            "ChargingPeriod": ObjectRule(droppable=True),
        }
    ),
    (V221, V211): PairRules(
        objects={
            "Cdr": ObjectRule(
                fields={
                    "end_date_time": rename("stop_date_time"),
                    "cdr_token": cdr_token_to_auth_id,
                    "cdr_location": _cdr_location_to_location,
                    "total_cost": price_to_number,
                    "credit": _credit_down,
                }
            ),
            "CdrDimension": ObjectRule(droppable=True),
            "ChargingPeriod": ObjectRule(droppable=True),
        }
    ),
    (V221, V230): PairRules(),
    (V230, V221): PairRules(),
}
