"""Locations, EVSEs and connectors in OCPI 2.1.1, 2.2.1 and 2.3.0 (digest §5.1)."""

from __future__ import annotations

from typing import Any

from domain.translation.common import V211, V221, V230, owner_finish
from domain.translation.engine import (
    ObjectRule,
    PairRules,
    Walk,
    derive,
    rename,
    schema,
    values,
)

# -- objects -----------------------------------------------------------------------------------

_SHARED = {
    "GeoLocation": schema("latitude lat!, longitude lon!"),
    "AdditionalGeoLocation": schema("latitude lat!, longitude lon!, name DisplayText?"),
    "BusinessDetails": schema("name str(100)!, website url?, logo Image?"),
    "RegularHours": schema("weekday int!, period_begin str(5)!, period_end str(5)!"),
    "ExceptionalPeriod": schema("period_begin dt!, period_end dt!"),
    "EnergySource": schema("source @EnergySourceCategory!, percentage num!"),
    "StatusSchedule": schema("period_begin dt!, period_end dt?, status @Status!"),
}
_ENERGY_MIX = schema(
    "is_green_energy bool!, energy_sources EnergySource*, environ_impact EnvironmentalImpact*,"
    " supplier_name str(64)?, energy_product_name str(64)?"
)

_LOCATION_211 = schema(
    """id str(39)!, type @LocationType!, name str(255)?, address str(45)!, city str(45)!,
    postal_code str(10)!, country str(3)!, coordinates GeoLocation!,
    related_locations AdditionalGeoLocation*, evses EVSE*, directions DisplayText*,
    operator BusinessDetails?, suboperator BusinessDetails?, owner BusinessDetails?,
    facilities @Facility*, time_zone str(255)?, opening_times Hours?, charging_when_closed bool?,
    images Image*, energy_mix EnergyMix?, last_updated dt!"""
)
_EVSE_211 = schema(
    """uid str(39)!, evse_id str(48)?, status @Status!, status_schedule StatusSchedule*,
    capabilities @Capability*, connectors Connector+, floor_level str(4)?,
    coordinates GeoLocation?, physical_reference str(16)?, directions DisplayText*,
    parking_restrictions @ParkingRestriction*, images Image*, last_updated dt!"""
)
_CONNECTOR_211 = schema(
    """id str(36)!, standard @ConnectorType!, format @ConnectorFormat!, power_type @PowerType!,
    voltage int!, amperage int!, tariff_id str(36)?, terms_and_conditions url?, last_updated dt!"""
)
_LOCATION_221 = schema(
    """country_code str(2)!, party_id str(3)!, id str(36)!, publish bool!,
    publish_allowed_to PublishTokenType*, name str(255)?, address str(45)!, city str(45)!,
    postal_code str(10)?, state str(20)?, country str(3)!, coordinates GeoLocation!,
    related_locations AdditionalGeoLocation*, parking_type @ParkingType?, evses EVSE*,
    directions DisplayText*, operator BusinessDetails?, suboperator BusinessDetails?,
    owner BusinessDetails?, facilities @Facility*, time_zone str(255)!, opening_times Hours?,
    charging_when_closed bool?, images Image*, energy_mix EnergyMix?, last_updated dt!"""
)
_EVSE_221 = derive(_EVSE_211, add="uid str(36)!")
_CONNECTOR_221 = schema(
    """id str(36)!, standard @ConnectorType!, format @ConnectorFormat!, power_type @PowerType!,
    max_voltage int!, max_amperage int!, max_electric_power int?, tariff_ids str(36)*,
    terms_and_conditions url?, last_updated dt!"""
)
_HOURS_221 = schema(
    """twentyfourseven bool!, regular_hours RegularHours*,
    exceptional_openings ExceptionalPeriod*, exceptional_closings ExceptionalPeriod*"""
)

OBJECTS = {
    V211: {
        **_SHARED,
        "Location": _LOCATION_211,
        "EVSE": _EVSE_211,
        "Connector": _CONNECTOR_211,
        # 2.1.1 Hours is a choice: regular_hours or twentyfourseven
        "Hours": derive(_HOURS_221, add="twentyfourseven bool?"),
        "EnergyMix": _ENERGY_MIX,
        "EnvironmentalImpact": schema("source @EnvironmentalImpactCategory!, amount num!"),
        "Image": schema(
            "url url!, thumbnail url?, category @ImageCategory!, type str(4)!, width int?,"
            " height int?"
        ),
    },
    V221: {
        **_SHARED,
        "Location": _LOCATION_221,
        "EVSE": _EVSE_221,
        "Connector": _CONNECTOR_221,
        "Hours": _HOURS_221,
        "EnergyMix": _ENERGY_MIX,
        "EnvironmentalImpact": schema("category @EnvironmentalImpactCategory!, amount num!"),
        "Image": schema(
            "url url!, thumbnail url?, category @ImageCategory!, type str(4)!, width int?,"
            " height int?"
        ),
        "PublishTokenType": schema(
            "uid str(36)?, type @TokenType?, visual_number str(64)?, issuer str(64)?,"
            " group_id str(36)?"
        ),
    },
}
OBJECTS[V230] = {
    **OBJECTS[V221],
    "Location": derive(_LOCATION_221, add="parking_places Parking*, help_phone str(25)?"),
    "EVSE": derive(_EVSE_221, add="parking EVSEParking*, accepted_service_providers str(50)*"),
    "Connector": derive(_CONNECTOR_221, add="capabilities @ConnectorCapability*"),
    "Parking": schema(
        """id str(36)!, physical_reference str(12)?, vehicle_types @VehicleType+,
        max_vehicle_weight num?, max_vehicle_height num?, max_vehicle_length num?,
        max_vehicle_width num?, parking_space_length num?, parking_space_width num?,
        dangerous_goods_allowed bool?, direction @ParkingDirection?, drive_through bool?,
        restricted_to_type bool!, reservation_required bool!, time_limit num?, roofed bool?,
        images Image*, lighting bool?, refrigeration_outlet bool?, standards str(36)*,
        apds_reference str?"""
    ),
    "EVSEParking": schema("parking_id str(36)!, evse_position @EVSEPosition?"),
}

# -- enums -------------------------------------------------------------------------------------

_CONNECTOR_TYPES_211 = values(
    """CHADEMO DOMESTIC_A DOMESTIC_B DOMESTIC_C DOMESTIC_D DOMESTIC_E DOMESTIC_F DOMESTIC_G
    DOMESTIC_H DOMESTIC_I DOMESTIC_J DOMESTIC_K DOMESTIC_L IEC_60309_2_single_16
    IEC_60309_2_three_16 IEC_60309_2_three_32 IEC_60309_2_three_64 IEC_62196_T1
    IEC_62196_T1_COMBO IEC_62196_T2 IEC_62196_T2_COMBO IEC_62196_T3A IEC_62196_T3C TESLA_R
    TESLA_S"""
)
_CONNECTOR_TYPES_221 = _CONNECTOR_TYPES_211 | values(
    """CHAOJI DOMESTIC_M DOMESTIC_N DOMESTIC_O GBT_AC GBT_DC NEMA_5_20 NEMA_6_30 NEMA_6_50
    NEMA_10_30 NEMA_10_50 NEMA_14_30 NEMA_14_50 PANTOGRAPH_BOTTOM_UP PANTOGRAPH_TOP_DOWN"""
)
_CAPABILITIES_211 = values(
    """CHARGING_PROFILE_CAPABLE CREDIT_CARD_PAYABLE REMOTE_START_STOP_CAPABLE RESERVABLE
    RFID_READER UNLOCK_CAPABLE"""
)
_CAPABILITIES_221 = _CAPABILITIES_211 | values(
    """CHARGING_PREFERENCES_CAPABLE CHIP_CARD_SUPPORT CONTACTLESS_CARD_SUPPORT DEBIT_CARD_PAYABLE
    PED_TERMINAL START_SESSION_CONNECTOR_REQUIRED TOKEN_GROUP_CAPABLE"""
)
_FACILITIES_211 = values(
    """HOTEL RESTAURANT CAFE MALL SUPERMARKET SPORT RECREATION_AREA NATURE MUSEUM BUS_STOP
    TAXI_STAND TRAIN_STATION AIRPORT CARPOOL_PARKING FUEL_STATION WIFI"""
)
_FACILITIES_221 = _FACILITIES_211 | values("BIKE_SHARING TRAM_STOP METRO_STATION PARKING_LOT")
_PARKING_RESTRICTIONS_211 = values("EV_ONLY PLUGGED DISABLED CUSTOMERS MOTORCYCLES")
_PARKING_TYPES = values(
    "ALONG_MOTORWAY PARKING_GARAGE PARKING_LOT ON_DRIVEWAY ON_STREET UNDERGROUND_GARAGE"
)
_LOCATION_TYPES = values("ON_STREET PARKING_GARAGE UNDERGROUND_GARAGE PARKING_LOT OTHER UNKNOWN")
_SAME_IN_ALL = {
    "ConnectorFormat": values("SOCKET CABLE"),
    "Status": values(
        "AVAILABLE BLOCKED CHARGING INOPERATIVE OUTOFORDER PLANNED REMOVED RESERVED UNKNOWN"
    ),
    "ImageCategory": values("CHARGER ENTRANCE LOCATION NETWORK OPERATOR OTHER OWNER"),
    "EnergySourceCategory": values(
        "NUCLEAR GENERAL_FOSSIL COAL GAS GENERAL_GREEN SOLAR WIND WATER"
    ),
    "EnvironmentalImpactCategory": values("NUCLEAR_WASTE CARBON_DIOXIDE"),
}

ENUMS = {
    V211: {
        **_SAME_IN_ALL,
        "LocationType": _LOCATION_TYPES,
        "Facility": _FACILITIES_211,
        "Capability": _CAPABILITIES_211,
        "ConnectorType": _CONNECTOR_TYPES_211,
        "PowerType": values("AC_1_PHASE AC_3_PHASE DC"),
        "ParkingRestriction": _PARKING_RESTRICTIONS_211,
    },
    V221: {
        **_SAME_IN_ALL,
        "ParkingType": _PARKING_TYPES,
        "Facility": _FACILITIES_221,
        "Capability": _CAPABILITIES_221,
        "ConnectorType": _CONNECTOR_TYPES_221,
        "PowerType": values("AC_1_PHASE AC_2_PHASE AC_2_PHASE_SPLIT AC_3_PHASE DC"),
        "ParkingRestriction": _PARKING_RESTRICTIONS_211,
    },
}
ENUMS[V230] = {
    **ENUMS[V221],
    "ConnectorType": _CONNECTOR_TYPES_221 | values("MCS SAE_J3400"),
    "ParkingRestriction": _PARKING_RESTRICTIONS_211 | values("EMPLOYEES TAXIS TENANTS"),
    "ConnectorCapability": values("ISO_15118_2_PLUG_AND_CHARGE ISO_15118_20_PLUG_AND_CHARGE"),
    "VehicleType": values(
        """MOTORCYCLE PERSONAL_VEHICLE PERSONAL_VEHICLE_WITH_TRAILER VAN SEMI_TRACTOR RIGID
        TRUCK_WITH_TRAILER BUS DISABLED"""
    ),
    "EVSEPosition": values("LEFT RIGHT CENTER"),
    "ParkingDirection": values("PARALLEL PERPENDICULAR ANGLE"),
}
OPEN_ENUMS_230 = values(
    """Capability ConnectorCapability ConnectorType EnvironmentalImpactCategory Facility
    ImageCategory ParkingRestriction ParkingType VehicleType"""
)

# -- 2.1.1 <-> 2.2.1 ---------------------------------------------------------------------------

# LocationType values ParkingType also has; OTHER and UNKNOWN have no ParkingType.
_PARKING_TYPE_OF_LOCATION_TYPE = {value: value for value in _LOCATION_TYPES & _PARKING_TYPES}


def _location_type_up(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    if value in _PARKING_TYPE_OF_LOCATION_TYPE:
        out["parking_type"] = value
    elif value != "UNKNOWN":  # UNKNOWN means "not known": the same as leaving parking_type out
        walk.dropped(path, value)


def _parking_type_down(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    if value in _LOCATION_TYPES:
        out["type"] = value
    elif value is not None:
        walk.approximated(path, value, "OTHER")
        out["type"] = "OTHER"


def _location_up_finish(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    if walk.partial and walk.at_top:
        return
    owner_finish(walk, source, out, path)
    if "publish" not in out:
        out["publish"] = True  # 2.1.1 has no privacy flag: its locations were all public
        walk.defaulted(f"{path}.publish" if path else "publish", True)
    if "time_zone" not in out and walk.context.time_zone is not None:
        out["time_zone"] = walk.context.time_zone
        walk.defaulted(f"{path}.time_zone" if path else "time_zone", walk.context.time_zone)


def _location_down_finish(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    if walk.partial and walk.at_top:
        return
    if "type" not in out:
        out["type"] = "UNKNOWN"  # 2.1.1's own default for "not known by the operator"
        walk.defaulted(_at(path, "parking_type"), "UNKNOWN")
    if "postal_code" not in out:
        out["postal_code"] = ""  # required in 2.1.1, optional since: an empty string says unknown
        walk.defaulted(_at(path, "postal_code"), "")


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _tariff_id_up(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    out["tariff_ids"] = [] if value is None else [value]


def _tariff_ids_down(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """2.1.1 names one tariff per connector: the first is kept (2.2.1 lists one per Tariff type
    active at a time; which type the 2.1.1 party pays by is not knowable here)."""
    ids = value or []
    if ids:
        out["tariff_id"] = ids[0]
    for position, extra in enumerate(ids[1:], start=1):
        walk.dropped(f"{path}[{position}]", extra)


def _hours_up_finish(walk: Walk, source: Any, out: dict[str, Any], path: str) -> None:
    if "twentyfourseven" not in out:
        out["twentyfourseven"] = False
        if "regular_hours" not in source:  # neither choice given: we say "not 24/7"
            walk.defaulted(_at(path, "twentyfourseven"), False)


def _twentyfourseven_down(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    if value is True or "regular_hours" not in source:
        out["twentyfourseven"] = value  # the 2.1.1 choice needs one of its two members


def _regular_hours_down(
    walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any
) -> None:
    if source.get("twentyfourseven") is True:
        walk.dropped(path, value)  # 2.1.1 Hours is either 24/7 or regular hours, not both
    else:
        walk.carry(value, path, out)


RULES = {
    (V211, V221): PairRules(
        objects={
            "Location": ObjectRule(fields={"type": _location_type_up}, finish=_location_up_finish),
            "Connector": ObjectRule(
                fields={
                    "voltage": rename("max_voltage"),
                    "amperage": rename("max_amperage"),
                    "tariff_id": _tariff_id_up,
                }
            ),
            "Hours": ObjectRule(finish=_hours_up_finish),
            "EnvironmentalImpact": ObjectRule(fields={"source": rename("category")}),
        }
    ),
    (V221, V211): PairRules(
        objects={
            "Location": ObjectRule(
                fields={"parking_type": _parking_type_down}, finish=_location_down_finish
            ),
            "EVSE": ObjectRule(droppable=True),
            "Connector": ObjectRule(
                fields={
                    "max_voltage": rename("voltage"),
                    "max_amperage": rename("amperage"),
                    "tariff_ids": _tariff_ids_down,
                },
                droppable=True,
            ),
            "Hours": ObjectRule(
                fields={
                    "twentyfourseven": _twentyfourseven_down,
                    "regular_hours": _regular_hours_down,
                }
            ),
            "EnvironmentalImpact": ObjectRule(fields={"category": rename("source")}),
        },
        enum_maps={"PowerType": {"AC_2_PHASE": "AC_1_PHASE", "AC_2_PHASE_SPLIT": "AC_1_PHASE"}},
    ),
    # -- 2.2.1 <-> 2.3.0: 2.3.0 only adds (AFIR parking data, help phone, connector capabilities,
    # enum values); 2.2.1 values all exist in 2.3.0.
    (V221, V230): PairRules(),
    (V230, V221): PairRules(
        objects={
            "EVSE": ObjectRule(droppable=True),
            "Connector": ObjectRule(droppable=True),
            "EnvironmentalImpact": ObjectRule(droppable=True),
        },
        enum_maps={
            # 2.3.0 says who may charge; a group-only restriction is closest to CUSTOMERS
            "ParkingRestriction": {"EMPLOYEES": "CUSTOMERS", "TENANTS": "CUSTOMERS"},
            "ImageCategory": {"*": "OTHER"},
        },
    ),
}
