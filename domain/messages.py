"""The RoutedMessage aggregate: one OCPI request that reached this node, and what became of it.

One aggregate per message keeps the hot path free of reconstruction: the request handler creates
it, triggers the later steps on the same in-memory object and saves only the new events. Bodies
are never inside events; events carry the SHA-256 of each body, which lives in the body store.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import MessageStateError


def message_id(sender_scope: str, request_id: str, attempt: int = 0) -> UUID:
    """Deterministic id: the same X-Request-ID from the same sender maps to the same message.

    `attempt` > 0 names the n-th retry, so a retry is a message of its own that points back
    at the first one instead of overwriting it.
    """
    suffix = f"/retry/{attempt}" if attempt else ""
    return uuid5(NAMESPACE_URL, f"/ocpi-ledger/messages/{sender_scope}/{request_id}{suffix}")


class RoutedMessage(Aggregate):
    class_version = 1

    @staticmethod
    def create_id(sender_scope: str, request_id: str, attempt: int = 0, **_: Any) -> UUID:
        return message_id(sender_scope, request_id, attempt)

    class Received(Aggregate.Created):
        sender_scope: str
        request_id: str
        attempt: int
        correlation_id: str
        connection_id: str | None
        method: str
        path: str
        query: str
        module: str | None
        interface: str | None
        headers: dict[str, str]
        body_sha256: str | None
        body_size: int
        from_party: str | None
        to_party: str | None
        retry_of: str | None = None
        sender_inferred: bool = False
        adjustments: list[str] | None = None

    @event(Received)
    def __init__(
        self,
        sender_scope: str,
        request_id: str,
        attempt: int,
        correlation_id: str,
        connection_id: str | None,
        method: str,
        path: str,
        query: str,
        module: str | None,
        interface: str | None,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        from_party: str | None,
        to_party: str | None,
        retry_of: str | None = None,
        sender_inferred: bool = False,
        adjustments: list[str] | None = None,
    ) -> None:
        """`sender_inferred`: the request named no sender and `from_party` was inferred from
        the calling connection. `adjustments`: what the node read into a sloppy request (a
        path without '/', generated request ids). Records made before these fields existed
        read with their defaults."""
        self.sender_scope = sender_scope
        self.request_id = request_id
        self.attempt = attempt
        self.correlation_id = correlation_id
        self.connection_id = connection_id
        self.method = method
        self.path = path
        self.query = query
        self.module = module
        self.interface = interface
        self.from_party = from_party
        self.to_party = to_party
        self.body_sha256 = body_sha256
        self.retry_of = retry_of
        self.sender_inferred = sender_inferred
        self.adjustments = adjustments or []
        self.classification: str | None = None
        self.legs: dict[int, dict[str, Any]] = {}
        self.outcome: str | None = None

    def route(
        self, classification: str, targets: list[str], reason: str, via: str | None = None
    ) -> None:
        """The routing decision, recorded before anything is forwarded. `via` is the way the
        message leaves this node (local | direct | hub), when it goes to one target."""
        if via is None:
            self._routed(classification=classification, targets=targets, reason=reason)
        else:
            self._routed(classification=classification, targets=targets, reason=reason, via=via)

    class Routed(Aggregate.Event):
        classification: str
        targets: list[str]
        reason: str
        via: str | None = None

    @event(Routed)
    def _routed(
        self, classification: str, targets: list[str], reason: str, via: str | None = None
    ) -> None:
        self.classification = classification
        self.via = via

    def forward(
        self,
        leg: int,
        target_party: str | None,
        target_connection_id: str | None,
        url: str,
        request_id: str,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """`translation`: the leg's body was translated toward the receiver's OCPI version
        (`{"source_version", "target_version", "losses": [...]}`); the body hash is then the
        translated body's. None for a leg sent as received."""
        if leg in self.legs:
            raise MessageStateError(f"leg {leg} was already forwarded")
        self._forwarded(
            leg=leg,
            target_party=target_party,
            target_connection_id=target_connection_id,
            url=url,
            request_id=request_id,
            headers=headers,
            body_sha256=body_sha256,
            body_size=body_size,
            translation=translation,
        )

    class Forwarded(Aggregate.Event):
        leg: int
        target_party: str | None
        target_connection_id: str | None
        url: str
        request_id: str
        headers: dict[str, str]
        body_sha256: str | None
        body_size: int
        translation: dict[str, Any] | None = None

    @event(Forwarded)
    def _forwarded(
        self,
        leg: int,
        target_party: str | None,
        target_connection_id: str | None,
        url: str,
        request_id: str,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        translation: dict[str, Any] | None = None,
    ) -> None:
        self.legs[leg] = {"target_party": target_party, "outcome": None}

    def record_answer(
        self,
        leg: int,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """The receiver's answer on one leg; `note` says how it was reached when that was not
        plain (e.g. a followed trailing-slash redirect). `translation`: the answer was translated
        back toward the requester's OCPI version (as on `forward`); the hash is the receiver's
        body, as received."""
        self._check_open_leg(leg)
        self._answered(
            leg=leg,
            http_status=http_status,
            ocpi_status=ocpi_status,
            latency_ms=latency_ms,
            headers=headers,
            body_sha256=body_sha256,
            body_size=body_size,
            note=note,
            translation=translation,
        )

    class Answered(Aggregate.Event):
        leg: int
        http_status: int
        ocpi_status: int | None
        latency_ms: float
        headers: dict[str, str]
        body_sha256: str | None
        body_size: int
        note: str | None = None
        translation: dict[str, Any] | None = None

    @event(Answered)
    def _answered(
        self,
        leg: int,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> None:
        self.legs[leg]["outcome"] = "answered"

    def record_failure(self, leg: int, status_code: int, reason: str, latency_ms: float) -> None:
        self._check_open_leg(leg)
        self._failed(leg=leg, status_code=status_code, reason=reason, latency_ms=latency_ms)

    class Failed(Aggregate.Event):
        leg: int
        status_code: int
        reason: str
        latency_ms: float

    @event(Failed)
    def _failed(self, leg: int, status_code: int, reason: str, latency_ms: float) -> None:
        self.legs[leg]["outcome"] = "failed"

    def refuse(self, http_status: int, ocpi_status: int, reason: str) -> None:
        """The node answered without forwarding: unknown receiver, spoofed sender, bad input."""
        if self.outcome is not None:
            raise MessageStateError("the message already has an outcome")
        self._refused(http_status=http_status, ocpi_status=ocpi_status, reason=reason)

    class Refused(Aggregate.Event):
        http_status: int
        ocpi_status: int
        reason: str

    @event(Refused)
    def _refused(self, http_status: int, ocpi_status: int, reason: str) -> None:
        self.outcome = "refused"

    def respond(
        self,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
    ) -> None:
        """What the requester got back from us: the last word of every exchange. `note` says
        what the node had to do differently (e.g. relay without a rewritten Link)."""
        if self.outcome == "responded":
            raise MessageStateError("the message was already answered")
        self._responded(
            http_status=http_status,
            ocpi_status=ocpi_status,
            latency_ms=latency_ms,
            headers=headers,
            body_sha256=body_sha256,
            body_size=body_size,
            note=note,
        )

    class Responded(Aggregate.Event):
        http_status: int
        ocpi_status: int | None
        latency_ms: float
        headers: dict[str, str]
        body_sha256: str | None
        body_size: int
        note: str | None = None

    @event(Responded)
    def _responded(
        self,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
    ) -> None:
        self.outcome = "responded"

    def _check_open_leg(self, leg: int) -> None:
        if leg not in self.legs:
            raise MessageStateError(f"leg {leg} was never forwarded")
        if self.legs[leg]["outcome"] is not None:
            raise MessageStateError(f"leg {leg} already has an outcome")
