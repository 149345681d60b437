"""The MessageLedger bounded context: every routed message, recorded before it is forwarded."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import CanMutateAggregate

from application.base import NotifyingApplication, last_position
from application.bodies import Body
from domain.messages import RoutedMessage


class MessageLedger(NotifyingApplication):
    """High-volume log in tables of its own, so routing traffic never locks the registry."""

    name = "ledger"

    def record(
        self, *messages: RoutedMessage | CanMutateAggregate[UUID], bodies: Sequence[Body] = ()
    ) -> int:
        """Save messages (or their already collected events) and bodies in one transaction."""
        unique = {body.sha256: body for body in bodies}
        recordings = self.save(*messages, bodies=[b.as_row() for b in unique.values()])
        return last_position(recordings)

    def get_message(self, message_id: UUID) -> RoutedMessage | None:
        try:
            return self.repository.get(message_id)
        except AggregateNotFoundError:
            return None
