"""Small valid objects of each version, and the table runner the per-module tests share.

Each case patches a field of an example, translates it, and checks the translated fields and the
losses the patch adds to those of the unpatched example (so every table row tests one field).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.errors import UntranslatableError
from domain.translation import Loss, LossKind, TranslationContext, translate

DROPPED, DEFAULTED, APPROXIMATED = LossKind.DROPPED, LossKind.DEFAULTED, LossKind.APPROXIMATED
ABSENT = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
STAMP = "2025-03-01T10:00:00Z"

CONNECTOR_211 = {
    "id": "1",
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "voltage": 230,
    "amperage": 32,
    "tariff_id": "T1",
    "last_updated": STAMP,
}
EVSE_211 = {
    "uid": "EVSE-1",
    "status": "AVAILABLE",
    "connectors": [CONNECTOR_211],
    "last_updated": STAMP,
}
LOCATION_211 = {
    "id": "LOC-1",
    "type": "ON_STREET",
    "address": "Main Street 1",
    "city": "Utrecht",
    "postal_code": "3511AA",
    "country": "NLD",
    "coordinates": {"latitude": "52.090700", "longitude": "5.121400"},
    "evses": [EVSE_211],
    "time_zone": "Europe/Amsterdam",
    "last_updated": STAMP,
}
CONNECTOR_221 = {
    "id": "1",
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "max_voltage": 230,
    "max_amperage": 32,
    "tariff_ids": ["T1"],
    "last_updated": STAMP,
}
EVSE_221 = {
    "uid": "EVSE-1",
    "status": "AVAILABLE",
    "connectors": [CONNECTOR_221],
    "last_updated": STAMP,
}
LOCATION_221 = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "LOC-1",
    "publish": True,
    "address": "Main Street 1",
    "city": "Utrecht",
    "postal_code": "3511AA",
    "country": "NLD",
    "coordinates": {"latitude": "52.090700", "longitude": "5.121400"},
    "parking_type": "ON_STREET",
    "evses": [EVSE_221],
    "time_zone": "Europe/Amsterdam",
    "last_updated": STAMP,
}
TOKEN_211 = {
    "uid": "012345678",
    "type": "RFID",
    "auth_id": "NL-MSP-C12345678-X",
    "issuer": "MSP",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": STAMP,
}
TOKEN_221 = {
    "country_code": "NL",
    "party_id": "MSP",
    "uid": "012345678",
    "type": "RFID",
    "contract_id": "NL-MSP-C12345678-X",
    "issuer": "MSP",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": STAMP,
}
CDR_TOKEN = {
    "country_code": "NL",
    "party_id": "MSP",
    "uid": "012345678",
    "type": "RFID",
    "contract_id": "NL-MSP-C12345678-X",
}
PERIOD = {"start_date_time": STAMP, "dimensions": [{"type": "ENERGY", "volume": 12.5}]}
SESSION_211 = {
    "id": "S-1",
    "start_datetime": STAMP,
    "kwh": 12.5,
    "auth_id": "NL-MSP-C12345678-X",
    "auth_method": "WHITELIST",
    "location": {**LOCATION_211},
    "currency": "EUR",
    "charging_periods": [PERIOD],
    "total_cost": 4.5,
    "status": "ACTIVE",
    "last_updated": STAMP,
}
SESSION_221 = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "S-1",
    "start_date_time": STAMP,
    "kwh": 12.5,
    "cdr_token": CDR_TOKEN,
    "auth_method": "WHITELIST",
    "location_id": "LOC-1",
    "evse_uid": "EVSE-1",
    "connector_id": "1",
    "currency": "EUR",
    "charging_periods": [PERIOD],
    "total_cost": {"excl_vat": 4.5},
    "status": "ACTIVE",
    "last_updated": STAMP,
}
SESSION_230 = {**SESSION_221, "total_cost": {"before_taxes": 4.5}}
ELEMENT = {"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]}
TARIFF_211 = {"id": "T1", "currency": "EUR", "elements": [ELEMENT], "last_updated": STAMP}
TARIFF_221 = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "T1",
    "currency": "EUR",
    "elements": [ELEMENT],
    "last_updated": STAMP,
}
TARIFF_230 = {**TARIFF_221, "tax_included": "NO"}
CDR_LOCATION = {
    "id": "LOC-1",
    "address": "Main Street 1",
    "city": "Utrecht",
    "postal_code": "3511AA",
    "country": "NLD",
    "coordinates": {"latitude": "52.090700", "longitude": "5.121400"},
    "evse_uid": "EVSE-1",
    "evse_id": "NL*CPO*E1",
    "connector_id": "1",
    "connector_standard": "IEC_62196_T2",
    "connector_format": "SOCKET",
    "connector_power_type": "AC_3_PHASE",
}
CDR_211 = {
    "id": "CDR-1",
    "start_date_time": STAMP,
    "stop_date_time": "2025-03-01T11:00:00Z",
    "auth_id": "NL-MSP-C12345678-X",
    "auth_method": "WHITELIST",
    "location": {
        **LOCATION_211,
        "evses": [{**EVSE_211, "evse_id": "NL*CPO*E1"}],
    },
    "currency": "EUR",
    "charging_periods": [PERIOD],
    "total_cost": 4.5,
    "total_energy": 12.5,
    "total_time": 1.0,
    "last_updated": STAMP,
}
CDR_221 = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "CDR-1",
    "start_date_time": STAMP,
    "end_date_time": "2025-03-01T11:00:00Z",
    "cdr_token": CDR_TOKEN,
    "auth_method": "WHITELIST",
    "cdr_location": CDR_LOCATION,
    "currency": "EUR",
    "charging_periods": [PERIOD],
    "total_cost": {"excl_vat": 4.5},
    "total_energy": 12.5,
    "total_time": 1.0,
    "last_updated": STAMP,
}
CDR_230 = {**CDR_221, "total_cost": {"before_taxes": 4.5}}
BUSINESS = {"name": "Charging Co"}
CREDENTIALS_211 = {
    "token": "abc",
    "url": "https://cpo.example/ocpi/versions",
    "business_details": BUSINESS,
    "party_id": "CPO",
    "country_code": "NL",
}
CREDENTIALS_221 = {
    "token": "abc",
    "url": "https://cpo.example/ocpi/versions",
    "roles": [
        {"role": "CPO", "business_details": BUSINESS, "party_id": "CPO", "country_code": "NL"}
    ],
}


@dataclass(frozen=True)
class Case:
    """One row: `patch` (path -> value, ABSENT deletes) applied to `example`, translated."""

    name: str
    kind: str
    source: str
    target: str
    example: dict[str, Any]
    patch: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)  # path -> value in the translation
    losses: tuple[tuple[str, LossKind, Any, Any], ...] = ()  # added by the patch
    context: TranslationContext = field(default_factory=TranslationContext)
    refused: str | None = None  # the UntranslatableError reason, when refused
    partial: bool = False

    def __str__(self) -> str:
        return self.name


def value_at(document: Any, path: str) -> Any:
    for name, position in _STEP.findall(path):
        key: Any = name or int(position)
        try:
            document = document[key]
        except (KeyError, IndexError, TypeError):
            return ABSENT
    return document


def put(document: Any, path: str, value: Any) -> None:
    steps = [name or int(position) for name, position in _STEP.findall(path)]
    for key in steps[:-1]:
        document = document[key]
    if value is ABSENT:
        del document[steps[-1]]
    else:
        document[steps[-1]] = value


def run(case: Case) -> None:
    example = copy.deepcopy(case.example)
    patched = copy.deepcopy(example)
    for path, value in case.patch.items():
        put(patched, path, value)
    if case.refused is not None:
        with pytest.raises(UntranslatableError) as refusal:
            translate(case.kind, patched, case.source, case.target, case.context)
        assert refusal.value.reason == case.refused
        return
    baseline = translate(
        case.kind, example, case.source, case.target, case.context, partial=case.partial
    )
    result = translate(
        case.kind, patched, case.source, case.target, case.context, partial=case.partial
    )
    for path, value in case.expect.items():
        assert value_at(result.body, path) == value, (path, value_at(result.body, path))
    added = [loss for loss in result.losses if loss not in baseline.losses]
    expected = [Loss(path, kind, source, target) for path, kind, source, target in case.losses]
    assert sorted(map(repr, added)) == sorted(map(repr, expected))
