"""The schema walk every translation shares: copy what both versions define, report the rest.

Each OCPI module declares its objects per version in a small notation (`schema`) and, per pair of
versions, the rules for what changed shape (`ObjectRule`). `Walk` applies them to a JSON object:

* a field both versions define is copied (objects recursively, enum values checked);
* a field only the source defines is dropped and reported;
* a field the source version does not define (an extension) is kept when the target defines it or
  tolerates unknown fields (2.3.0 SHALL NOT reject them), else dropped and reported: we are strict
  in what we forward;
* an enum value the target lacks is mapped to its nearest value (approximated) when the pair
  declares one, dropped from a list, or makes its object unrepresentable. An object that may be
  left out (a connector, an EVSE) is then dropped whole; otherwise the translation is refused;
* a required target field the rules cannot fill refuses the translation: we never invent data
  silently, and the caller records the refusal.

Loss paths are in the source object's coordinates (`evses[1].connectors[0].standard`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.errors import UntranslatableError
from domain.translation.losses import Loss, LossKind, OcpiVersion


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str  # scalar kind (str, num, int, bool, dt, url, lat, lon, any), @Enum or Object name
    card: str  # "1" required, "?" optional, "*" list, "+" non-empty list
    max_length: int | None = None

    @property
    def required(self) -> bool:
        return self.card in ("1", "+")

    @property
    def is_list(self) -> bool:
        return self.card in ("*", "+")

    @property
    def is_enum(self) -> bool:
        return self.type.startswith("@")

    @property
    def is_object(self) -> bool:
        return self.type[:1].isupper()


_FIELD = re.compile(r"^(\w+)\s+(@?\w+)(?:\((\d+)\))?([!?*+])$")
_CARDINALITY = {"!": "1", "?": "?", "*": "*", "+": "+"}

ObjectSchema = dict[str, FieldSpec]


def schema(text: str) -> ObjectSchema:
    """`"id str(36)!, evses EVSE*, status @Status!"` -> field specs (`!` required, `?` optional,
    `*` list, `+` non-empty list; `@` an enum, a capital an object, `(n)` a maximum length)."""
    fields: ObjectSchema = {}
    for item in text.replace("\n", " ").split(","):
        item = " ".join(item.split())
        if not item:
            continue
        match = _FIELD.match(item)
        if match is None:
            raise ValueError(f"bad field declaration {item!r}")
        name, kind, length, card = match.groups()
        fields[name] = FieldSpec(name, kind, _CARDINALITY[card], int(length) if length else None)
    return fields


def values(text: str) -> frozenset[str]:
    """An enum's values, written space-separated."""
    return frozenset(text.split())


def derive(base: ObjectSchema, *, add: str = "", drop: Iterable[str] = ()) -> ObjectSchema:
    """A later version of an object: `base` without `drop`, with `add` added or redeclared."""
    fields = {name: spec for name, spec in base.items() if name not in set(drop)}
    fields.update(schema(add))
    return fields


@dataclass(frozen=True, slots=True)
class VersionSpec:
    version: OcpiVersion
    objects: Mapping[str, ObjectSchema]
    enums: Mapping[str, frozenset[str]]
    open_enums: frozenset[str] = frozenset()
    keeps_unknown_fields: bool = False


FieldHandler = Callable[["Walk", Any, str, dict[str, Any], Mapping[str, Any]], None]
Finisher = Callable[["Walk", Mapping[str, Any], dict[str, Any], str], None]


@dataclass(frozen=True, slots=True)
class ObjectRule:
    """How one object changes shape between two versions (what the schemas cannot tell)."""

    target: str | None = None  # the object's name in the target version, when renamed
    fields: Mapping[str, FieldHandler] = field(default_factory=dict)
    finish: Finisher | None = None  # runs after the fields: defaults, cross-field rules
    droppable: bool = False  # left out whole (and reported) when it cannot be expressed


@dataclass(frozen=True, slots=True)
class PairRules:
    objects: Mapping[str, ObjectRule] = field(default_factory=dict)
    # enum name -> source value -> nearest target value (an approximation, always reported)
    enum_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class Unrepresentable(Exception):
    """Raised inside a walk when a required value has no form in the target version; the nearest
    droppable object catches it, else the walk refuses the translation."""

    def __init__(self, path: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, position: int) -> str:
    return f"{path}[{position}]"


class Walk:
    """One translation of one object from `source` to `target`, collecting its losses."""

    def __init__(
        self,
        source: VersionSpec,
        target: VersionSpec,
        rules: PairRules,
        context: Any,
        *,
        partial: bool = False,
    ) -> None:
        self.source = source
        self.target = target
        self.rules = rules
        self.context = context
        self.partial = partial
        self.losses: list[Loss] = []
        self.current_type: list[str] = []  # the object types being walked, innermost last

    # -- loss recording -------------------------------------------------------------------------

    def dropped(self, path: str, value: Any) -> None:
        if value is None or value == []:
            return  # null and an empty list say nothing: leaving them out loses nothing
        self.losses.append(Loss(path, LossKind.DROPPED, value, None))

    def defaulted(self, path: str, value: Any) -> None:
        self.losses.append(Loss(path, LossKind.DEFAULTED, None, value))

    def approximated(self, path: str, source_value: Any, target_value: Any) -> None:
        if source_value == target_value and type(source_value) is type(target_value):
            return  # e.g. a zero price made net: nothing changed
        self.losses.append(Loss(path, LossKind.APPROXIMATED, source_value, target_value))

    # -- the walk -------------------------------------------------------------------------------

    def run(self, type_name: str, obj: Any) -> Any:
        if not isinstance(obj, Mapping):
            raise UntranslatableError("not_an_object", f"expected a {type_name} object")
        rule = self.rules.objects.get(type_name, ObjectRule())
        try:
            result = self._object(type_name, rule, obj, "")  # the top object is never dropped
        except Unrepresentable as error:
            raise UntranslatableError(
                error.reason,
                f"{type_name} to OCPI {self.target.version}: {error} (at {error.path or 'top'})",
            ) from None
        except (TypeError, KeyError, AttributeError, ValueError, ArithmeticError) as error:
            # A value of the wrong JSON type where a rule needs its content (a list for a
            # number, a string for an object): the object is malformed, not untranslatable by
            # a decision; the hub answers it like any other refusal.
            raise UntranslatableError(
                "malformed", f"{type_name} to OCPI {self.target.version}: malformed ({error!r})"
            ) from None
        return result

    def object(self, type_name: str, obj: Any, path: str) -> Any:
        """Translate one object; MISSING when it is droppable and cannot be expressed."""
        if not isinstance(obj, Mapping):
            raise Unrepresentable(path, "not_an_object", f"expected a {type_name} object")
        rule = self.rules.objects.get(type_name, ObjectRule())
        if not rule.droppable:
            return self._object(type_name, rule, obj, path)
        mark = len(self.losses)
        try:
            return self._object(type_name, rule, obj, path)
        except Unrepresentable:
            del self.losses[mark:]
            self.losses.append(Loss(path, LossKind.DROPPED, dict(obj), None))
            return MISSING

    def _object(self, type_name: str, rule: ObjectRule, obj: Mapping[str, Any], path: str) -> Any:
        self.current_type.append(type_name)
        try:
            return self._fields(type_name, rule, obj, path)
        finally:
            self.current_type.pop()

    def _fields(self, type_name: str, rule: ObjectRule, obj: Mapping[str, Any], path: str) -> Any:
        source_fields = self.source.objects[type_name]
        target_name = rule.target or type_name
        target_fields = self.target.objects[target_name]
        out: dict[str, Any] = {}
        for name, value in obj.items():
            at = join(path, name)
            handler = rule.fields.get(name)
            if handler is not None:
                handler(self, value, at, out, obj)
                continue
            source_spec = source_fields.get(name)
            target_spec = target_fields.get(name)
            if target_spec is None:
                if source_spec is None and self.target.keeps_unknown_fields:
                    out[name] = value
                else:
                    self.dropped(at, value)
                continue
            converted = self.value(source_spec or target_spec, target_spec, value, at)
            if converted is not MISSING:
                out[name] = converted
        if rule.finish is not None:
            rule.finish(self, obj, out, path)
        if not (self.partial and self.at_top):
            for name, spec in target_fields.items():
                if spec.required and name not in out:
                    already_required = source_fields.get(name)
                    if already_required is not None and already_required.required:
                        continue  # the source object was already incomplete; passed on as is
                    raise Unrepresentable(
                        join(path, name),
                        "required_field_unknown",
                        f"OCPI {self.target.version} {target_name}.{name} is required"
                        " and the source does not say it",
                    )
        return out

    @property
    def at_top(self) -> bool:
        """True while walking the top object (a PATCH body is partial only at its top)."""
        return len(self.current_type) == 1

    def carry(
        self, value: Any, path: str, out: dict[str, Any], target_name: str | None = None
    ) -> None:
        """Convert the field at `path` of the current object by the schemas, under `target_name`
        (default: its own name) in the target object."""
        name = path.rsplit(".", 1)[-1]
        source_type = self.current_type[-1]
        rule = self.rules.objects.get(source_type)
        target_type = (rule.target if rule else None) or source_type
        source_spec = self.source.objects[source_type][name]
        target_spec = self.target.objects[target_type][target_name or name]
        converted = self.value(source_spec, target_spec, value, path)
        if converted is not MISSING:
            out[target_name or name] = converted

    def value(self, source: FieldSpec, target: FieldSpec, value: Any, path: str) -> Any:
        """Convert one field value by its declarations; MISSING when it is dropped."""
        if value is None:
            return None
        if target.is_list and isinstance(value, list):
            items = []
            for position, item in enumerate(value):
                converted = self.element(source, target, item, index(path, position), True)
                if converted is not MISSING:
                    items.append(converted)
            if target.card == "+" and value and not items:
                raise Unrepresentable(path, "nothing_left", f"no element of {path} is expressible")
            return items
        return self.element(source, target, value, path, False)

    def element(
        self, source: FieldSpec, target: FieldSpec, value: Any, path: str, in_list: bool
    ) -> Any:
        if source.is_object:
            return self.object(source.type, value, path)
        if source.is_enum:
            return self.enum(source.type[1:], target.type[1:], value, path, in_list, target)
        return self.scalar(source, target, value, path)

    def enum(
        self,
        source_enum: str,
        target_enum: str,
        value: Any,
        path: str,
        in_list: bool,
        target: FieldSpec,
    ) -> Any:
        if not isinstance(value, str):
            if in_list or not target.required:
                self.dropped(path, value)
                return MISSING
            raise Unrepresentable(path, "malformed", f"{value!r} is no {target_enum} value")
        values = self.target.enums.get(target_enum, frozenset())
        if value in values or target_enum in self.target.open_enums:
            return value
        nearest_values = self.rules.enum_maps.get(source_enum, {})
        nearest = nearest_values.get(value, nearest_values.get("*"))
        if nearest is not None:
            self.approximated(path, value, nearest)
            return nearest
        if in_list or not target.required:
            self.dropped(path, value)
            return MISSING
        raise Unrepresentable(
            path,
            "enum_value_unknown",
            f"{value!r} is no {target_enum} value of OCPI {self.target.version}",
        )

    def scalar(self, source: FieldSpec, target: FieldSpec, value: Any, path: str) -> Any:
        too_long = target.max_length is not None and len(str(value)) > target.max_length
        if too_long and isinstance(value, str):
            raise Unrepresentable(
                path,
                "too_long",
                f"{value!r} is longer than the {target.max_length} characters"
                f" OCPI {self.target.version} allows",
            )
        if target.type == "dt" and isinstance(value, str):
            return self.datetime(value, path)
        if target.type in ("lat", "lon") and isinstance(value, str):
            return self.coordinate(value, path)
        return value

    def datetime(self, value: str, path: str) -> str:
        if self.source.version is OcpiVersion.V2_1_1 and not _HAS_ZONE.search(value):
            return value + "Z"  # 2.1.1: no designator means UTC; later versions write it
        if self.target.version is OcpiVersion.V2_1_1:
            whole = _FRACTION.sub("", value)
            if whole != value:
                self.approximated(path, value, whole)
            return whole
        return value

    def coordinate(self, value: str, path: str) -> str:
        """2.1.1 demands exactly 6 decimals; 2.2.1 and 2.3.0 accept 5 to 7."""
        if self.target.version is not OcpiVersion.V2_1_1:
            return value
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        six = f"{number.quantize(Decimal('0.000001')):f}"
        if six != value:
            self.approximated(path, value, six)
        return six


_HAS_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_FRACTION = re.compile(r"\.\d+(?=(Z|[+-]\d\d:?\d\d)?$)")


def rename(new_name: str) -> FieldHandler:
    """A field that only changed its name (the value is converted by the new name's spec)."""

    def handler(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
        walk.carry(value, path, out, new_name)

    return handler


def drop(walk: Walk, value: Any, path: str, out: dict[str, Any], source: Any) -> None:
    """A field the target cannot carry."""
    walk.dropped(path, value)
