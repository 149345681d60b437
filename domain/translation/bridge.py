"""translate(): one OCPI object from one version to another, with its loss report.

What each version defines is the union of the module declarations; the rules of a pair are the
union of the modules' rules for that pair. 2.1.1 <-> 2.3.0 goes through 2.2.1 (2.3.0 is 2.2.1
plus additions, so nothing is lost on the way that a direct rule would keep); its loss report lists
the first step's losses, then the second's, each in the coordinates of that step's source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any

from domain.errors import UntranslatableError
from domain.translation import (
    cdrs,
    charging_profiles,
    commands,
    common,
    credentials,
    locations,
    sessions,
    tariffs,
    tokens,
)
from domain.translation.engine import ObjectRule, PairRules, VersionSpec, Walk
from domain.translation.losses import Loss, OcpiVersion, Translation
from domain.values import PartyRef, Role

_MODULES = (
    common,
    locations,
    tokens,
    tariffs,
    sessions,
    cdrs,
    commands,
    charging_profiles,
    credentials,
)
ORDER = (OcpiVersion.V2_1_1, OcpiVersion.V2_2_1, OcpiVersion.V2_3_0)


class ObjectKind(StrEnum):
    """The objects a hub relays, by their OCPI names."""

    LOCATION = "Location"
    EVSE = "EVSE"
    CONNECTOR = "Connector"
    TARIFF = "Tariff"
    TOKEN = "Token"
    AUTHORIZATION_INFO = "AuthorizationInfo"
    LOCATION_REFERENCES = "LocationReferences"
    SESSION = "Session"
    CDR = "Cdr"
    START_SESSION = "StartSession"
    STOP_SESSION = "StopSession"
    RESERVE_NOW = "ReserveNow"
    UNLOCK_CONNECTOR = "UnlockConnector"
    CANCEL_RESERVATION = "CancelReservation"
    COMMAND_RESPONSE = "CommandResponse"  # the CPO's synchronous answer
    COMMAND_RESULT = "CommandResult"  # the asynchronous result (a CommandResponse in 2.1.1)
    SET_CHARGING_PROFILE = "SetChargingProfile"
    ACTIVE_CHARGING_PROFILE = "ActiveChargingProfile"
    CHARGING_PROFILE_RESPONSE = "ChargingProfileResponse"
    ACTIVE_CHARGING_PROFILE_RESULT = "ActiveChargingProfileResult"
    CHARGING_PROFILE_RESULT = "ChargingProfileResult"
    CLEAR_PROFILE_RESULT = "ClearProfileResult"
    CREDENTIALS = "Credentials"


@dataclass(frozen=True, slots=True)
class TranslationContext:
    """What the hub knows beyond the object, for the fields one version has and another lacks.

    owner        the party owning an object that comes from 2.1.1 (no owner ids inside): the CPO
                 of a location, tariff, session or CDR, the eMSP of a token or of a command
    token_owner  the eMSP a 2.1.1 session or CDR token belongs to, when the token itself is not
                 in the hub's index
    cdr_token    the 2.2.1 CdrToken the hub's token index has for a 2.1.1 auth_id
    token        the 2.2.1 Token a 2.1.1 eMSP's authorisation answer is about
    location     the hub's stored 2.2.1/2.3.0 Location of a session or CDR going to 2.1.1
    time_zone    the zone of a 2.1.1 location without one (2.2.1 requires it)
    role         the role of a 2.1.1 party, from its invitation (its credentials do not say it)
    reservation_id  the int the hub allocated for a 2.2.1 reservation id going to 2.1.1
    command_timeout seconds a 2.1.1 CPO's answer is said to wait for the charge point
    """

    owner: PartyRef | None = None
    token_owner: PartyRef | None = None
    cdr_token: Mapping[str, Any] | None = None
    token: Mapping[str, Any] | None = None
    location: Mapping[str, Any] | None = None
    time_zone: str | None = None
    role: Role | None = None
    reservation_id: int | None = None
    command_timeout: int = 60


def _merge_specs() -> dict[OcpiVersion, VersionSpec]:
    specs = {}
    for version in ORDER:
        objects: dict[str, Any] = {}
        enums: dict[str, frozenset[str]] = {}
        open_enums: set[str] = set()
        for module in _MODULES:
            _merge_unique(objects, getattr(module, "OBJECTS", {}).get(version, {}), module)
            _merge_unique(enums, getattr(module, "ENUMS", {}).get(version, {}), module)
            if version is OcpiVersion.V2_3_0:
                open_enums |= getattr(module, "OPEN_ENUMS_230", frozenset())
        specs[version] = VersionSpec(
            version=version,
            objects=objects,
            enums=enums,
            open_enums=frozenset(open_enums | {"CommandType", "ModuleID", "VersionNumber"}),
            # 2.3.0: "SHALL NOT reject ... payloads based on the presence of JSON object field
            # names that are not documented"; earlier versions say nothing, so we do not send them.
            keeps_unknown_fields=version is OcpiVersion.V2_3_0,
        )
    return specs


def _merge_unique(into: dict[str, Any], new: Mapping[str, Any], module: Any) -> None:
    for name, value in new.items():
        if name in into and into[name] != value:
            raise ValueError(f"{module.__name__} redeclares {name} differently")
        into[name] = value


def _merge_rules() -> dict[tuple[OcpiVersion, OcpiVersion], PairRules]:
    merged = {}
    neighbours = list(pairwise(ORDER))
    for pair in neighbours + [(b, a) for a, b in neighbours]:
        objects: dict[str, ObjectRule] = {}
        enum_maps: dict[str, dict[str, str]] = {}
        for module in _MODULES:
            rules = getattr(module, "RULES", {}).get(pair)
            if rules is None:
                continue
            for name, rule in rules.objects.items():
                if name in objects:
                    raise ValueError(f"{module.__name__} redefines the rule of {name}")
                objects[name] = rule
            for enum, mapping in rules.enum_maps.items():
                enum_maps.setdefault(enum, {}).update(mapping)
        merged[pair] = PairRules(objects=objects, enum_maps=enum_maps)
    return merged


SPECS = _merge_specs()
RULES = _merge_rules()


def defines(version: OcpiVersion, kind: ObjectKind | str) -> bool:
    return str(kind) in SPECS[OcpiVersion(version)].objects


def translate(
    kind: ObjectKind | str,
    body: Mapping[str, Any],
    source: OcpiVersion | str,
    target: OcpiVersion | str,
    context: TranslationContext | None = None,
    *,
    partial: bool = False,
) -> Translation:
    """`body` (a `kind` object of OCPI `source`) as OCPI `target` says it, with what was lost.

    `partial` translates a PATCH body: required fields are neither demanded nor defaulted at its
    top. Raises `UntranslatableError` when the target cannot express the object without
    inventing data (the reason says why); the caller answers and records it.
    """
    source, target, kind = OcpiVersion(source), OcpiVersion(target), str(kind)
    context = context or TranslationContext()
    for version in (source, target):
        if kind not in SPECS[version].objects:
            raise UntranslatableError("absent_in_version", f"OCPI {version} has no {kind} object")
    losses: list[Loss] = []
    current: Any = dict(body)
    for step_source, step_target in _steps(source, target):
        walk = Walk(
            SPECS[step_source],
            SPECS[step_target],
            RULES[(step_source, step_target)],
            context,
            partial=partial,
        )
        current = walk.run(kind, current)
        losses.extend(walk.losses)
    return Translation(source, target, current, tuple(losses))


def _steps(source: OcpiVersion, target: OcpiVersion) -> list[tuple[OcpiVersion, OcpiVersion]]:
    start, end = ORDER.index(source), ORDER.index(target)
    if start <= end:
        return list(pairwise(ORDER[start : end + 1]))
    return list(pairwise(ORDER[end : start + 1][::-1]))
