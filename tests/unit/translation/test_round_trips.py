"""Round trips through an older version keep what it can carry, and report exactly the rest.

For any valid 2.2.1 object X: translate it to 2.1.1 (Y) and back (Z) with what the hub knows
(the owner of the connection, its token index, its stored location). Then
* every field where Z differs from X is named by a loss of X -> Y (nothing changes unreported);
* every field a loss of X -> Y names as dropped or approximated is in X with that value, and it
  either differs in Z, or the way back had to default it (or took it from the hub's knowledge):
  the report names nothing that 2.1.1 carried.
The same for 2.3.0 -> 2.2.1 -> 2.3.0.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import UntranslatableError
from domain.translation import LossKind, ObjectKind, OcpiVersion, TranslationContext, translate
from domain.translation.bridge import defines
from domain.values import PartyRef, Role
from tests.unit.translation.strategies import objects

V211, V221, V230 = OcpiVersion.V2_1_1, OcpiVersion.V2_2_1, OcpiVersion.V2_3_0

# Why a translation may refuse, per object: each is a decision in the digest, tested by table.
REFUSALS_TO_211 = {
    "Location": set(),
    "EVSE": {"nothing_left"},  # none of its connectors has a 2.1.1 standard
    "Connector": {"enum_value_unknown"},  # a standard 2.1.1 lacks
    "Tariff": {"nothing_left"},  # every element restricted by current or reservation
    "Session": {"connector_unknown", "location_unknown"},
    "Cdr": {"too_long", "credit_cdr", "enum_value_unknown", "nothing_left"},
    "Credentials": {"several_roles"},
}
REFUSALS_TO_221 = {
    "EVSE": {"nothing_left"},
    "Connector": {"enum_value_unknown"},
    "Tariff": {"tax_rate_unknown"},
    "Cdr": {"tax_rate_unknown", "enum_value_unknown"},  # connector standard 2.2.1 lacks
    "Credentials": {"enum_value_unknown"},  # a PTP role, 2.3.0 only (versions digest §11.20)
}
# Fields the way back restores from what the hub knows, not from the 2.1.1 object.
FROM_HUB_KNOWLEDGE = {"country_code", "party_id", "cdr_token", "token", "time_zone"}

KINDS_211 = [kind for kind in ObjectKind if defines(V211, kind) and defines(V221, kind)]
KINDS_230 = [kind for kind in ObjectKind if defines(V230, kind)]

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ABSENT = object()


def value_at(document: Any, path: str) -> Any:
    for name, position in _STEP.findall(path):
        if name:
            if not isinstance(document, dict) or name not in document:
                return _ABSENT
            document = document[name]
        else:
            if not isinstance(document, list) or int(position) >= len(document):
                return _ABSENT
            document = document[int(position)]
    return document


def _empty(value: Any) -> bool:
    # OCPI `*` fields: an empty list and an absent field say the same
    return value is _ABSENT or value == []


def differences(one: Any, other: Any, path: str = "") -> list[str]:
    if isinstance(one, dict) and isinstance(other, dict):
        found = []
        for name in one.keys() | other.keys():
            left, right = one.get(name, _ABSENT), other.get(name, _ABSENT)
            if _empty(left) and _empty(right):
                continue
            found += differences(left, right, f"{path}.{name}" if path else name)
        return found
    if isinstance(one, list) and isinstance(other, list):
        if len(one) != len(other):
            return [path]
        found = []
        for position, (left, right) in enumerate(zip(one, other, strict=True)):
            found += differences(left, right, f"{path}[{position}]")
        return found
    same = (one == other and type(one) is type(other)) or _numbers_equal(one, other)
    return [] if same else [path]


def _numbers_equal(one: Any, other: Any) -> bool:
    numeric = (int, float)
    return (
        isinstance(one, numeric)
        and isinstance(other, numeric)
        and not isinstance(one, bool)
        and not isinstance(other, bool)
        and one == other
    )


def related(one: str, other: str) -> bool:
    def within(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith(outer + ".") or inner.startswith(outer + "[")

    return within(one, other) or within(other, one)


def assert_round_trip(kind: str, original: dict, there, back) -> None:
    changed = differences(original, back.body)
    for path in changed:
        assert any(related(loss.path, path) for loss in there.losses), (
            f"{path} changed on the round trip and no loss names it: "
            f"{value_at(original, path)!r} -> {value_at(back.body, path)!r}; losses {there.losses}"
        )
    for loss in there.losses:
        if loss.kind is LossKind.DEFAULTED:
            continue  # names a field the source lacked
        assert value_at(original, loss.path) == loss.source_value, loss
        restored_by_hub = loss.path.split(".")[0].split("[")[0] in FROM_HUB_KNOWLEDGE
        assert (
            any(related(loss.path, path) for path in changed)
            or any(related(loss.path, other.path) for other in back.losses)
            or restored_by_hub
        ), f"{loss} is reported but the field came back unchanged"


def _owner(document: dict) -> PartyRef | None:
    try:
        return PartyRef(document["country_code"], document["party_id"])
    except (KeyError, Exception):
        return None


@st.composite
def _stored_location_for(draw, session: dict) -> dict:
    """The hub's stored location holding the EVSE and connector the session names."""
    location = draw(objects(V221, "Location"))
    evse = draw(objects(V221, "EVSE"))
    connector = draw(objects(V221, "Connector"))
    connector["id"] = session["connector_id"]
    evse["uid"] = session["evse_uid"]
    evse["connectors"] = [connector]
    location["id"] = session["location_id"]
    location["evses"] = [evse]
    return location


def _context_down(kind: str, original: dict, data) -> TranslationContext:
    if kind == "Session":
        return TranslationContext(location=data.draw(_stored_location_for(original)))
    if kind == "Cdr" and data.draw(st.booleans()):
        cdr_location = original["cdr_location"]
        fake = {
            "connector_id": cdr_location["connector_id"],
            "evse_uid": cdr_location["evse_uid"],
            "location_id": cdr_location["id"],
        }
        return TranslationContext(location=data.draw(_stored_location_for(fake)))
    if kind == "ReserveNow":
        return TranslationContext(reservation_id=data.draw(st.integers(0, 1000)))
    return TranslationContext()


def _context_up(kind: str, original: dict) -> TranslationContext:
    """What the hub knows of the object when it comes back from the 2.1.1 side."""
    roles = original.get("roles") or [{}]
    return TranslationContext(
        owner=_owner(original.get("token", original)),
        cdr_token=original.get("cdr_token"),
        token=original.get("token"),
        time_zone=original.get("time_zone"),
        role=Role(roles[0]["role"]) if roles[0].get("role") else None,
        command_timeout=original.get("timeout", 60),
    )


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", KINDS_211, ids=str)
@_SETTINGS
@given(data=st.data())
def test_a_2_2_1_object_through_2_1_1_keeps_what_2_1_1_carries_and_reports_the_rest(kind, data):
    original = data.draw(objects(V221, kind))
    try:
        there = translate(kind, original, V221, V211, _context_down(kind, original, data))
    except UntranslatableError as refusal:
        assert refusal.reason in REFUSALS_TO_211.get(kind, set()), refusal
        return
    back = translate(kind, there.body, V211, V221, _context_up(kind, original))
    assert_round_trip(kind, original, there, back)


@pytest.mark.parametrize("kind", KINDS_230, ids=str)
@_SETTINGS
@given(data=st.data())
def test_a_2_3_0_object_through_2_2_1_keeps_what_2_2_1_carries_and_reports_the_rest(kind, data):
    original = data.draw(objects(V230, kind))
    try:
        there = translate(kind, original, V230, V221)
    except UntranslatableError as refusal:
        assert refusal.reason in REFUSALS_TO_221.get(kind, set()), refusal
        return
    back = translate(kind, there.body, V221, V230)
    assert_round_trip(kind, original, there, back)


# From the 2.1.1 side: objects that do not embed a location (sessions and CDRs need the hub's
# stored location on the way back, which a 2.1.1 object cannot provide).
KINDS_FROM_211 = [kind for kind in KINDS_211 if kind not in ("Session", "Cdr")]
# 2.1.1 location and EVSE ids may have 39 characters, 2.2.1 ones 36
_WITH_LOCATION_IDS = ("Location", "EVSE", "StartSession", "ReserveNow", "UnlockConnector",
                      "LocationReferences", "AuthorizationInfo")  # fmt: skip
REFUSALS_FROM_211 = {kind: frozenset({"too_long"}) for kind in _WITH_LOCATION_IDS}


@pytest.mark.parametrize("kind", KINDS_FROM_211, ids=str)
@_SETTINGS
@given(data=st.data())
def test_a_2_1_1_object_through_2_2_1_comes_back_as_the_report_says(kind, data):
    original = data.draw(objects(V211, kind))
    context = TranslationContext(
        owner=PartyRef("NL", "ABC"),
        time_zone="Europe/Amsterdam",
        role=Role.CPO,
        token=data.draw(objects(V221, "Token")),
    )
    try:
        there = translate(kind, original, V211, V221, context)
    except UntranslatableError as refusal:
        assert refusal.reason in REFUSALS_FROM_211.get(kind, set()), refusal
        return
    back = translate(kind, there.body, V221, V211)
    assert_round_trip(kind, original, there, back)
