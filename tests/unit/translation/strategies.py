"""Hypothesis strategies for OCPI objects of any version, read from the translation schemas.

Objects are valid by the tables (cardinalities, enum values, lengths, formats) but otherwise
arbitrary, so they also combine fields the prose forbids (a 24/7 location with regular hours):
translation must report those honestly too. Sometimes they carry an undocumented field, and in
2.3.0 a custom value of an open enum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from domain.translation.bridge import SPECS
from domain.translation.engine import FieldSpec
from domain.translation.losses import OcpiVersion

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
_TEXT_ALPHABET = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# decimals with at most two places: money, volumes and rates as OCPI parties send them
_NUMBERS = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False).map(
    lambda value: int(value) if value == value.to_integral_value() else float(value)
)


def _datetime(version: OcpiVersion) -> st.SearchStrategy[str]:
    whole = st.datetimes(
        min_value=datetime(2015, 1, 1),
        max_value=datetime(2035, 1, 1),
    ).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S"))
    if version is OcpiVersion.V2_1_1:
        return whole.map(lambda text: text + "Z")
    fraction = st.sampled_from(["", ".1", ".123", ".500000"])
    return st.tuples(whole, fraction).map(lambda parts: f"{parts[0]}{parts[1]}Z")


def _coordinate(version: OcpiVersion, whole_digits: int) -> st.SearchStrategy[str]:
    places = st.just(6) if version is OcpiVersion.V2_1_1 else st.integers(5, 7)
    return st.tuples(
        st.booleans(), st.integers(0, 10**whole_digits - 1), places, st.integers(0, 9_999_999)
    ).map(lambda parts: f"{'-' if parts[0] else ''}{parts[1]}.{str(parts[3]).zfill(7)[: parts[2]]}")


def _string(spec: FieldSpec) -> st.SearchStrategy[str]:
    if spec.name == "country_code":
        return st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
    if spec.name == "party_id":
        return st.text(_ID_ALPHABET[:36], min_size=3, max_size=3)
    if spec.name in ("currency", "country"):
        return st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)
    longest = min(spec.max_length or 40, 40)
    if spec.max_length is not None and spec.max_length <= 48:
        return st.text(_ID_ALPHABET, min_size=1, max_size=longest)
    return st.text(_TEXT_ALPHABET, min_size=0, max_size=12)


def _scalar(version: OcpiVersion, spec: FieldSpec) -> st.SearchStrategy[Any]:
    kind = spec.type
    if kind == "str":
        return _string(spec)
    if kind == "num":
        return _NUMBERS
    if kind == "int":
        return st.integers(0, 100_000)
    if kind == "bool":
        return st.booleans()
    if kind == "dt":
        return _datetime(version)
    if kind == "url":
        return st.text("abcdefghij", min_size=1, max_size=8).map(
            lambda slug: f"https://example.com/{slug}"
        )
    if kind == "lat":
        return _coordinate(version, 2)
    if kind == "lon":
        return _coordinate(version, 3)
    return st.text(_TEXT_ALPHABET, max_size=8)


def _enum(version: OcpiVersion, name: str) -> st.SearchStrategy[str]:
    spec = SPECS[version]
    known = st.sampled_from(sorted(spec.enums[name]))
    if name in spec.open_enums:
        return st.one_of(known, known, known, st.just("X_CUSTOM_VALUE"))
    return known


def _element(version: OcpiVersion, spec: FieldSpec) -> st.SearchStrategy[Any]:
    if spec.is_object:
        return objects(version, spec.type)
    if spec.is_enum:
        return _enum(version, spec.type[1:])
    return _scalar(version, spec)


def _field(version: OcpiVersion, spec: FieldSpec) -> st.SearchStrategy[Any]:
    element = _element(version, spec)
    if spec.is_list:
        return st.lists(element, min_size=1 if spec.card == "+" else 0, max_size=2)
    return element


_CACHE: dict[tuple[OcpiVersion, str], st.SearchStrategy[dict[str, Any]]] = {}


def objects(version: OcpiVersion | str, type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Any `type_name` object of OCPI `version`, now and then with an undocumented field."""
    version = OcpiVersion(version)
    key = (version, type_name)
    if key not in _CACHE:
        fields = SPECS[version].objects[type_name]
        required = {name: _field(version, spec) for name, spec in fields.items() if spec.required}
        optional = {
            name: _field(version, spec) for name, spec in fields.items() if not spec.required
        }
        optional["undocumented_note"] = st.text("abc", min_size=1, max_size=3)
        strategy = st.fixed_dictionaries(required, optional=optional)
        if key == (OcpiVersion.V2_1_1, "Hours"):
            strategy = strategy.map(_one_choice)
        _CACHE[key] = st.deferred(lambda: strategy)
    return _CACHE[key]


def _one_choice(hours: dict[str, Any]) -> dict[str, Any]:
    """2.1.1 Hours is a choice: regular_hours or twentyfourseven, not both."""
    if "regular_hours" in hours:
        hours.pop("twentyfourseven", None)
    return hours
