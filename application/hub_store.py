"""The port of the hub's object store: the broadcast objects GET All answers from (digest §2.7).

The store is a projection of the message ledger (`application.hub_objects`): routing only reads
it, and only the projection writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from domain.operations import Operation
from domain.values import ModuleId, PartyRef


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
    owners: list[PartyRef] = field(default_factory=list)
    """The owner of each document (in order)."""
    versions: list[str] = field(default_factory=list)
    """The OCPI version each document is in (in order): the one its owner pushed it in."""


class HubObjectStore(Protocol):
    def get(self, key: ObjectKey) -> bytes | None: ...

    def get_versioned(self, key: ObjectKey) -> tuple[bytes, str] | None:
        """The object and the OCPI version its owner pushed it in."""
        ...

    def pushed(self, position: int) -> None:
        """A push was recorded at ledger `position`: later reads must include it."""
        ...

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page:
        """Objects of `module` with date_from <= last_updated < date_to (normalised datetimes),
        oldest first (stable order), and how many match in total."""
        ...


def object_key(operation: Operation) -> tuple[ObjectKey | None, tuple[str, ...]]:
    """The hub-store key of the object a push or Receiver GET names, and its sub-object ids."""
    owner = operation.owner
    if owner is None:
        return None, ()
    module = str(operation.module)
    if operation.module is ModuleId.LOCATIONS and operation.location_id:
        sub_ids = tuple(i for i in (operation.evse_uid, operation.connector_id) if i)
        return ObjectKey(module, owner, operation.location_id), sub_ids
    if operation.module is ModuleId.TARIFFS and operation.tariff_id:
        return ObjectKey(module, owner, operation.tariff_id), ()
    if operation.module is ModuleId.TOKENS and operation.token_uid:
        token_type = str(operation.token_type or "RFID")
        return ObjectKey(module, owner, operation.token_uid, token_type), ()
    return None, ()
