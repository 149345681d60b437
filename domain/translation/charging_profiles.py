"""Charging profiles: in 2.2.1 and 2.3.0 alike (2.1.1 has no such module, digest §5.8)."""

from __future__ import annotations

from domain.translation.common import V221, V230
from domain.translation.engine import PairRules, schema, values

_OBJECTS = {
    "ChargingProfileResponse": schema("result @ChargingProfileResponseType!, timeout int!"),
    "ActiveChargingProfileResult": schema(
        "result @ChargingProfileResultType!, profile ActiveChargingProfile?"
    ),
    "ChargingProfileResult": schema("result @ChargingProfileResultType!"),
    "ClearProfileResult": schema("result @ChargingProfileResultType!"),
    "SetChargingProfile": schema("charging_profile ChargingProfile!, response_url url!"),
    "ActiveChargingProfile": schema("start_date_time dt!, charging_profile ChargingProfile!"),
    "ChargingProfile": schema(
        """start_date_time dt?, duration int?, charging_rate_unit @ChargingRateUnit!,
        min_charging_rate num?, charging_profile_period ChargingProfilePeriod*"""
    ),
    "ChargingProfilePeriod": schema("start_period int!, limit num!"),
}
_ENUMS = {
    "ChargingRateUnit": values("W A"),
    "ChargingProfileResponseType": values(
        "ACCEPTED NOT_SUPPORTED REJECTED TOO_OFTEN UNKNOWN_SESSION"
    ),
    "ChargingProfileResultType": values("ACCEPTED REJECTED UNKNOWN"),
}
OBJECTS = {V221: _OBJECTS, V230: _OBJECTS}
ENUMS = {V221: _ENUMS, V230: _ENUMS}
RULES = {(V221, V230): PairRules(), (V230, V221): PairRules()}
