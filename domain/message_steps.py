"""A routed message's records read as its logical steps, in one place.

A message is stored as two events (`RoutedMessage.Admitted`, `RoutedMessage.Concluded`); ledgers
written before hold one event per step. Every reader (projections, the timeline, receipts,
evidence, verify) reads steps: Received, Routed, Forwarded, Answered or Failed, Refused,
Responded, so both kinds of record read alike and readers need not know how they were stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.messages import RoutedMessage

_META = ("originator_id", "originator_version", "timestamp")
_ADMITTED_PARTS = ("routed", "legs", "refused", "responded")
STORED_EVENTS = ("Admitted", "Concluded")


def steps_of(name: str, fields: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The logical steps a stored event holds, in order, as (name, fields): Admitted ->
    Received, Routed, Forwarded per leg, Refused, Responded (those present); Concluded ->
    Answered or Failed per leg, Responded; any other event (a step stored on its own, as
    before issue 15) -> itself. Each step carries the stored event's id, version and time
    (whichever of them `fields` holds)."""
    if name == "Admitted":
        meta = {key: fields[key] for key in _META if key in fields}
        steps = [("Received", {k: v for k, v in fields.items() if k not in _ADMITTED_PARTS})]
        if fields.get("routed") is not None:
            steps.append(("Routed", {**meta, **fields["routed"]}))
        steps += [("Forwarded", {**meta, **leg}) for leg in fields.get("legs") or ()]
        if fields.get("refused") is not None:
            steps.append(("Refused", {**meta, **fields["refused"]}))
        if fields.get("responded") is not None:
            steps.append(("Responded", {**meta, **fields["responded"]}))
        return steps
    if name == "Concluded":
        meta = {key: fields[key] for key in _META if key in fields}
        steps = [
            (
                "Answered" if leg.get("outcome") == "answered" else "Failed",
                {**meta, **{k: v for k, v in leg.items() if k != "outcome"}},
            )
            for leg in fields.get("legs") or ()
        ]
        if fields.get("responded") is not None:
            steps.append(("Responded", {**meta, **fields["responded"]}))
        return steps
    return [(name, fields)]


def step_events(event: Any) -> list[Any]:
    """A decoded event as its steps, as event objects (the step classes of RoutedMessage);
    any event that is not an Admitted or Concluded comes back as it is."""
    if type(event) not in _STORED_CLASSES:
        return [event]
    return [
        _step_event(name, fields) for name, fields in steps_of(type(event).__name__, vars(event))
    ]


def _step_event(name: str, fields: dict[str, Any]) -> Any:
    # As the library's mapper builds events: no __init__, so fields a newer writer added (a
    # leg's optional facts) come along instead of failing.
    step = object.__new__(getattr(RoutedMessage, name))
    step.__dict__.update(fields)
    return step


def stored_classes(steps: Iterable[type]) -> set[type]:
    """The stored event classes that hold any of these step classes: the classes themselves
    (records written before issue 15) and Admitted or Concluded."""
    wanted = set(steps)
    found = set(wanted)
    if wanted & _ADMITTED_STEPS:
        found.add(RoutedMessage.Admitted)
    if wanted & _CONCLUDED_STEPS:
        found.add(RoutedMessage.Concluded)
    return found


_STORED_CLASSES = (RoutedMessage.Admitted, RoutedMessage.Concluded)
_ADMITTED_STEPS: set[type] = {
    RoutedMessage.Received,
    RoutedMessage.Routed,
    RoutedMessage.Forwarded,
    RoutedMessage.Refused,
    RoutedMessage.Responded,
}
_CONCLUDED_STEPS: set[type] = {
    RoutedMessage.Answered,
    RoutedMessage.Failed,
    RoutedMessage.Responded,
}
