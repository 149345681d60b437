"""The hub's object store as a projection of the message ledger (digest §2.5, §2.7).

GET All of locations, tariffs and tokens via the hub answers from the objects platforms pushed
to the hub as broadcasts. Those objects are derived from the ledger alone, so a replay from
event zero rebuilds them like every other read model.

Which pushes count ("accepted"): a RoutedMessage whose
* Received event is a PUT, PATCH or DELETE on a Receiver interface naming a stored object
  (`object_key`: a location with its EVSE/connector, a tariff, a token),
* Routed event classifies it BROADCAST (the hub admitted it as a push addressed to the hub, so
  nothing refused, spoofed or directly routed counts), and
* Responded event says the hub answered it with success (HTTP 2xx, OCPI 1000).
The hub records all three in the transaction that admits the push, before it answers, so a
push the requester saw answered is always in the ledger with its body.

Such a push changes the stored object with `domain.hub_objects.apply_push`, reading the pushed
body from the ledger's body store. A push whose body cannot be applied (no `last_updated`, not
an object) leaves the object unchanged, as the write-beside store did.

Redacted bodies: body retention may reduce a body to its hash. A rebuild that meets a PUT or
PATCH whose body is gone cannot know the object after it, and the earlier state would be served
as current although the owner has since changed it. So the object is dropped from the view and
recorded as a gap (object key, message id, body hash; `SqlHubObjectsView.gaps`). Later
sub-object PUTs and PATCHes find no object and change nothing; the next whole-object PUT (or a
DELETE) restores the object and clears the gap. The live view never meets a redacted body: it
applies each push within moments, retention redacts after days.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from application.audit import operation_of
from application.hub_store import ObjectKey, Page, object_key
from application.projection import Projection
from domain.errors import DomainError
from domain.hub_objects import Deleted, Stored, apply_push
from domain.messages import RoutedMessage
from domain.routing import RouteClassKind
from domain.status_codes import Success
from domain.values import PartyRef

log = logging.getLogger(__name__)

PUSH_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
_BROADCAST = str(RouteClassKind.BROADCAST)
_OUTCOMES = (RoutedMessage.Routed, RoutedMessage.Refused, RoutedMessage.Responded)


@dataclass(frozen=True, slots=True)
class PendingPush:
    """A push between its Received and its Responded event (they may fall in different batches
    of the runner, so this lives in the view, not in the projection)."""

    key: ObjectKey
    sub_ids: tuple[str, ...]
    method: str
    body_sha256: str | None
    broadcast: bool = False
    version: str | None = None
    """The OCPI version of the push (None: 2.2.1): the version the stored object is in."""

    def as_json(self) -> str:
        return json.dumps(
            {
                "module": self.key.module,
                "country_code": self.key.owner.country_code,
                "party_id": self.key.owner.party_id,
                "object_id": self.key.object_id,
                "token_type": self.key.token_type,
                "sub_ids": list(self.sub_ids),
                "method": self.method,
                "body_sha256": self.body_sha256,
                "broadcast": self.broadcast,
                "version": self.version,
            }
        )

    @staticmethod
    def from_json(text: str) -> PendingPush:
        data = json.loads(text)
        owner = PartyRef(data["country_code"], data["party_id"])
        return PendingPush(
            key=ObjectKey(data["module"], owner, data["object_id"], data["token_type"]),
            sub_ids=tuple(data["sub_ids"]),
            method=data["method"],
            body_sha256=data["body_sha256"],
            broadcast=bool(data["broadcast"]),
            version=data.get("version"),
        )


class HubObjectsWriter(Protocol):
    def pending(self, message_id: str) -> PendingPush | None: ...
    def put_pending(self, message_id: str, push: PendingPush) -> None: ...
    def drop_pending(self, message_id: str) -> None: ...
    def get(self, key: ObjectKey) -> bytes | None: ...
    def put(
        self, key: ObjectKey, document: bytes, last_updated: str, version: str | None = None
    ) -> None: ...
    def delete(self, key: ObjectKey) -> None: ...
    def lost(self, key: ObjectKey, message_id: str, body_sha256: str) -> None:
        """The object is unknown from this push on: its body was redacted (a gap)."""
        ...

    def body(self, sha256: str) -> bytes | None: ...
    def preload_bodies(self, hashes: Iterable[str]) -> None: ...


class HubObjectsProjection(Projection[HubObjectsWriter]):
    name = "hub_objects"
    topics = frozenset({RoutedMessage.Received, *_OUTCOMES})

    def prepare(self, events: Sequence[Any], writer: HubObjectsWriter) -> None:
        broadcast = {
            event.originator_id
            for event in events
            if isinstance(event, RoutedMessage.Routed) and event.classification == _BROADCAST
        }
        writer.preload_bodies(
            event.body_sha256
            for event in events
            if isinstance(event, RoutedMessage.Received)
            and event.originator_id in broadcast
            and event.body_sha256
            and event.method in ("PUT", "PATCH")
        )

    def process(self, event: Any, writer: HubObjectsWriter) -> None:
        if not isinstance(event, RoutedMessage.Event):
            return
        message_id = str(event.originator_id)
        if isinstance(event, RoutedMessage.Received):
            push = _push_of(event)
            if push is not None:
                writer.put_pending(message_id, push)
            return
        if not isinstance(event, _OUTCOMES):
            return
        push = writer.pending(message_id)
        if push is None:
            return
        if isinstance(event, RoutedMessage.Routed) and event.classification == _BROADCAST:
            writer.put_pending(message_id, replace(push, broadcast=True))
            return
        writer.drop_pending(message_id)
        if (
            isinstance(event, RoutedMessage.Responded)
            and push.broadcast
            and 200 <= event.http_status < 300
            and event.ocpi_status == Success.GENERIC
        ):
            _apply(push, message_id, writer)


def _push_of(event: Any) -> PendingPush | None:
    if event.method not in PUSH_METHODS or event.interface != "RECEIVER":
        return None
    operation = operation_of(event)
    if operation is None:
        return None
    key, sub_ids = object_key(operation)
    if key is None:
        return None
    # Records made before versions were routed have no ocpi_version: they are 2.2.1.
    version = getattr(event, "ocpi_version", None)
    return PendingPush(key, sub_ids, event.method, event.body_sha256, version=version)


def _apply(push: PendingPush, message_id: str, writer: HubObjectsWriter) -> None:
    body = b""
    if push.method != "DELETE" and push.body_sha256:
        found = writer.body(push.body_sha256)
        if found is None:
            writer.lost(push.key, message_id, push.body_sha256)
            return
        body = found
    current = writer.get(push.key) if push.sub_ids or push.method == "PATCH" else None
    try:
        result = apply_push(push.method, current, push.sub_ids, body)
    except DomainError as error:
        log.info("hub objects keep %s unchanged: %s", push.key, error)
        return
    if isinstance(result, Stored):
        writer.put(push.key, result.document, result.last_updated, push.version)
    elif isinstance(result, Deleted):
        writer.delete(push.key)


# ---- read-your-writes ------------------------------------------------------------------------


class ProjectionProgress(Protocol):
    """How far the projection's runner in this process has applied the ledger (in memory)."""

    @property
    def position(self) -> int: ...

    def wait(self, position: int, timeout: float = 5.0) -> None: ...

    def wake(self, _position: int = 0) -> None: ...


class HubObjectsView(Protocol):
    def get(self, key: ObjectKey) -> bytes | None: ...

    def get_versioned(self, key: ObjectKey) -> tuple[bytes, str] | None: ...

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page: ...

    def gaps(self) -> list[dict[str, str]]:
        """Objects a rebuild could not restore (a push whose body retention redacted)."""
        ...


class CaughtUpObjects:
    """The hub object store routing reads: each read first waits until the projection has
    applied every push this process recorded (read-your-writes for push, then GET All).

    The check is two integers in memory, no query: reads wait only while the runner is behind
    the last push position recorded here. Several nodes on one PostgreSQL: a node waits for its
    own pushes only; another node's pushes show once this node's runner polls (every second)
    and applies them.
    While an operator rebuilds the view, reads answer from the rows rebuilt so far.
    """

    def __init__(
        self,
        view: HubObjectsView,
        progress: ProjectionProgress,
        recorded: int = 0,
        timeout: float = 5.0,
    ) -> None:
        self.view = view
        self.progress = progress
        self.timeout = timeout
        self._recorded = recorded

    def pushed(self, position: int) -> None:
        # Called on the event loop only, so the read-compare-write needs no lock.
        if position > self._recorded:
            self._recorded = position
        # The runner is not woken by every ledger commit (most carry no push): this one does.
        self.progress.wake()

    def get(self, key: ObjectKey) -> bytes | None:
        self._catch_up()
        return self.view.get(key)

    def get_versioned(self, key: ObjectKey) -> tuple[bytes, str] | None:
        self._catch_up()
        return self.view.get_versioned(key)

    def page(
        self, module: str, date_from: str | None, date_to: str | None, offset: int, limit: int
    ) -> Page:
        self._catch_up()
        return self.view.page(module, date_from, date_to, offset, limit)

    def _catch_up(self) -> None:
        wanted = self._recorded
        if self.progress.position < wanted:
            self.progress.wait(wanted, self.timeout)
