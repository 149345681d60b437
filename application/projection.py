"""The contract between projections (pure logic, here) and the views that hold their rows."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

W = TypeVar("W")


class Projection(ABC, Generic[W]):
    """Turns domain events into writes on a view. Deterministic, no side effects, so that
    replaying from event zero always rebuilds the same rows."""

    name: str
    topics: frozenset[type] | None = None
    """The event classes `process` acts on, when it ignores all others: the runner then
    does not decode the others at all. None: every event."""

    @abstractmethod
    def process(self, event: Any, writer: W) -> None: ...

    def prepare(self, events: Sequence[Any], writer: W) -> None:
        """Called once per batch before `process`: read in one query what processing the
        events one by one would read with a query each."""


class TrackedView(ABC, Generic[W]):
    """A view that stores, atomically with its rows, how far into the event log it has read."""

    @abstractmethod
    def position(self) -> int: ...

    @abstractmethod
    def apply_batch(
        self,
        projection: Projection[W],
        events: Sequence[Any],
        from_position: int,
        to_position: int,
    ) -> bool:
        """Apply `events` and move the position from `from_position` to `to_position` in one
        transaction. Returns False (and changes nothing) when the position was no longer
        `from_position`, i.e. another runner got there first."""

    @abstractmethod
    def reset(self) -> None:
        """Drop every row and the position: the next run rebuilds from event zero."""
