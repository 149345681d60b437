"""What fake recorders in routing tests keep: the stored events, and the steps they hold."""

from __future__ import annotations

from typing import Any

from domain.message_steps import step_events
from domain.messages import RoutedMessage


def steps(message: RoutedMessage, stored: list[Any]) -> list[Any]:
    """Collect the message's new events into `stored`; return the steps they hold."""
    events = list(message.collect_events())
    stored.extend(events)
    return [step for event in events for step in step_events(event)]
