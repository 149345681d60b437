"""What every Application of ours shares: a hook that tells followers new events were saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Recording


class NotifyingApplication(Application[UUID]):
    """An Application that calls its listeners with the highest notification id after each save.

    Projection runners in this process use it to wake at once instead of polling.
    """

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._save_listeners: list[Callable[[int], None]] = []

    def add_save_listener(self, listener: Callable[[int], None]) -> None:
        self._save_listeners.append(listener)

    def _notify(self, recordings: list[Recording[Any]]) -> None:
        if not recordings or not self._save_listeners:
            return
        position = max(r.notification.id for r in recordings)
        for listener in self._save_listeners:
            listener(position)


def last_position(recordings: list[Recording[Any]]) -> int:
    return max((r.notification.id for r in recordings), default=0)
