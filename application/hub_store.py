"""The port of the hub's object store: the broadcast objects GET All answers from (digest §2.7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.values import PartyRef


@dataclass(frozen=True, slots=True)
class ObjectKey:
    module: str
    owner: PartyRef
    object_id: str
    token_type: str = ""
    """Tokens are unique per (uid, type) within their owner; empty for other modules."""


@dataclass(frozen=True, slots=True)
class Page:
    documents: list[bytes]
    total: int


class HubObjectStore(Protocol):
    def get(self, key: ObjectKey) -> bytes | None: ...

    def put(self, key: ObjectKey, document: bytes, last_updated: str) -> None: ...

    def delete(self, key: ObjectKey) -> None: ...

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page:
        """Objects of `module` with date_from <= last_updated < date_to (normalised datetimes),
        oldest first (stable order), and how many match in total."""
        ...
