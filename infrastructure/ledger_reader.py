"""Read a node's message ledger from its store (demo summaries, end-to-end checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.message_steps import step_events
from domain.messages import RoutedMessage
from infrastructure.database_url import DatabaseUrl
from infrastructure.store import open_store

PAGE = 500


@dataclass
class LedgerEntry:
    correlation_id: str
    from_party: str | None
    to_party: str | None
    module: str | None
    route: str | None = None
    reason: str | None = None
    outcomes: list[str] = field(default_factory=list)


def read_ledger(url: DatabaseUrl) -> dict[str, LedgerEntry]:
    """Every routed message, by aggregate id, with its routing decision."""
    store = open_store(url)
    try:
        ledger = store.ledger
        entries: dict[str, LedgerEntry] = {}
        start = 1
        while True:
            page = ledger.recorder.select_notifications(start=start, limit=PAGE)
            for notification in page:
                for event in step_events(ledger.mapper.to_domain_event(notification)):
                    _read_step(entries, event)
            if len(page) < PAGE:
                return entries
            start = page[-1].id + 1
    finally:
        store.close()


def _read_step(entries: dict[str, LedgerEntry], event: Any) -> None:
    key = str(event.originator_id)
    if isinstance(event, RoutedMessage.Received):
        entries[key] = LedgerEntry(
            event.correlation_id, event.from_party, event.to_party, event.module
        )
    elif key in entries and isinstance(event, RoutedMessage.Routed):
        # the way out (local | direct | hub) when recorded, else the classification
        entries[key].route = getattr(event, "via", None) or event.classification
        entries[key].reason = event.reason
    elif key in entries:
        entries[key].outcomes.append(type(event).__name__)
