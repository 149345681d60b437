"""The RoutedMessage aggregate: one OCPI request that reached this node, and what became of it.

One aggregate per message keeps the hot path free of reconstruction: the request handler builds
its `Admission`, records it as the message's first event, then records the outcome on the same
in-memory object. Two events per message (issue 15): each event is built, encoded, stored,
chained and decoded by every projection, so five per message cost the hot path and rebuilds
more than their size. Readers still see the logical steps (`steps_of`, `step_events`), which
is also the stored form of records written before (one event per step): old and new ledgers
read alike. Bodies are never inside events; events carry the SHA-256 of each body, which lives
in the body store.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """Stored as two events: `Admitted` (the request, its routing decision and the legs
    forwarded, committed before anything is forwarded; a refusal or an answer of the hub's
    own rides in it too) and `Concluded` (each leg's answer or failure and the response to
    the requester). Readers see the logical steps (`steps_of`): Received, Routed, Forwarded,
    Answered/Failed, Refused, Responded, which is also how records written before the two
    events (one event per step) are stored, so both read alike."""

    class_version = 1

    @staticmethod
    def create_id(sender_scope: str, request_id: str, attempt: int = 0, **_: Any) -> UUID:
        return message_id(sender_scope, request_id, attempt)

    class Request(Aggregate.Created):
        """The request as received: the fields of Admitted and of Received (never stored
        on its own)."""

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
        ocpi_version: str | None = None
        """The OCPI version of the request's path prefix; None: 2.2.1 (and every record made
        before other versions were routed)."""

    class Admitted(Request):
        routed: dict[str, Any] | None = None
        legs: list[dict[str, Any]] | None = None
        refused: dict[str, Any] | None = None
        responded: dict[str, Any] | None = None

    @event(Admitted)
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
        ocpi_version: str | None = None,
        routed: dict[str, Any] | None = None,
        legs: list[dict[str, Any]] | None = None,
        refused: dict[str, Any] | None = None,
        responded: dict[str, Any] | None = None,
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
        self.ocpi_version = ocpi_version
        self.classification: str | None = None
        self.via: str | None = None
        self.legs: dict[int, dict[str, Any]] = {}
        self.outcome: str | None = None
        self._outcomes: list[dict[str, Any]] = []
        self._response: dict[str, Any] | None = None
        if routed is not None:
            self._route(routed)
        for leg in legs or ():
            self._forward(leg)
        if refused is not None:
            self.outcome = "refused"
        if responded is not None:
            self.outcome = "responded"

    @classmethod
    def admit(cls, admission: Admission) -> RoutedMessage:
        """The message as one Admitted event: everything decided before forwarding."""
        return cls(
            **admission.received,
            routed=admission.routed,
            legs=admission.legs or None,
            refused=admission.refused,
            responded=admission.responded,
        )

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
        back toward the requester's OCPI version (`{"source_version", "target_version",
        "losses": [...]}`); the hash is the receiver's body, as received. Recorded in the next
        Concluded."""
        self._check_open_leg(leg)
        answer = response_of(
            http_status, ocpi_status, latency_ms, headers, body_sha256, body_size, note
        )
        if translation is not None:
            answer["translation"] = translation
        self._conclude_leg({"leg": leg, "outcome": "answered", **answer})

    def record_failure(self, leg: int, status_code: int, reason: str, latency_ms: float) -> None:
        self._check_open_leg(leg)
        self._conclude_leg(
            {
                "leg": leg,
                "outcome": "failed",
                "status_code": status_code,
                "reason": reason,
                "latency_ms": latency_ms,
            }
        )

    def respond(
        self,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """What the requester got back from us: the last word of every exchange. `note` says
        what the node had to do differently (e.g. relay without a rewritten Link)."""
        if self.outcome == "responded":
            raise MessageStateError("the message was already answered")
        self._response = response_of(
            http_status, ocpi_status, latency_ms, headers, body_sha256, body_size, note, translation
        )
        self.outcome = "responded"

    def conclude(self) -> None:
        """The outcomes recorded since the last conclusion, as one Concluded event (none if
        there are none). Collecting the events concludes too, so nothing recorded is left
        behind."""
        if self._outcomes or self._response is not None:
            self._concluded(legs=self._outcomes, responded=self._response)

    def collect_events(self) -> Sequence[Any]:
        self.conclude()
        return super().collect_events()

    class Concluded(Aggregate.Event):
        legs: list[dict[str, Any]]
        responded: dict[str, Any] | None = None

    @event(Concluded)
    def _concluded(
        self, legs: list[dict[str, Any]], responded: dict[str, Any] | None = None
    ) -> None:
        for outcome in legs:
            self.legs[outcome["leg"]]["outcome"] = outcome["outcome"]
        if responded is not None:
            self.outcome = "responded"
        self._outcomes = []
        self._response = None

    def _conclude_leg(self, outcome: dict[str, Any]) -> None:
        self.legs[outcome["leg"]]["outcome"] = outcome["outcome"]
        self._outcomes.append(outcome)

    def _route(self, routed: dict[str, Any]) -> None:
        self.classification = routed["classification"]
        self.via = routed.get("via")

    def _forward(self, leg: dict[str, Any]) -> None:
        self.legs[leg["leg"]] = {"target_party": leg.get("target_party"), "outcome": None}

    def _check_open_leg(self, leg: int) -> None:
        if leg not in self.legs:
            raise MessageStateError(f"leg {leg} was never forwarded")
        if self.legs[leg]["outcome"] is not None:
            raise MessageStateError(f"leg {leg} already has an outcome")

    # ---- the steps: what readers see, and the stored form of records written before the two
    # events (one per step); kept to read those, never triggered any more.

    class Received(Request):
        pass

    class Routed(Aggregate.Event):
        classification: str
        targets: list[str]
        reason: str
        via: str | None = None

        def apply(self, aggregate: Any) -> None:
            aggregate._route(vars(self))

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
        """The leg's body was translated toward the receiver's OCPI version: source and target
        version and the losses; the body hash is then the translated body's."""

        def apply(self, aggregate: Any) -> None:
            aggregate._forward(vars(self))

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

        def apply(self, aggregate: Any) -> None:
            aggregate.legs[self.leg]["outcome"] = "answered"

    class Failed(Aggregate.Event):
        leg: int
        status_code: int
        reason: str
        latency_ms: float

        def apply(self, aggregate: Any) -> None:
            aggregate.legs[self.leg]["outcome"] = "failed"

    class Refused(Aggregate.Event):
        http_status: int
        ocpi_status: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.outcome = "refused"

    class Responded(Aggregate.Event):
        http_status: int
        ocpi_status: int | None
        latency_ms: float
        headers: dict[str, str]
        body_sha256: str | None
        body_size: int
        note: str | None = None
        translation: dict[str, Any] | None = None
        """The hub answered from its store in the requester's version: what that changed."""

        def apply(self, aggregate: Any) -> None:
            aggregate.outcome = "responded"


def response_of(
    http_status: int,
    ocpi_status: int | None,
    latency_ms: float,
    headers: dict[str, str],
    body_sha256: str | None,
    body_size: int,
    note: str | None = None,
    translation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    response = {
        "http_status": http_status,
        "ocpi_status": ocpi_status,
        "latency_ms": latency_ms,
        "headers": headers,
        "body_sha256": body_sha256,
        "body_size": body_size,
        "note": note,
    }
    if translation is not None:  # absent otherwise: records keep the form they had before
        response["translation"] = translation
    return response


class Admission:
    """A message before it is recorded: the request as received (the Admitted fields), then
    routed and forwarded, or refused, or answered by the hub itself. `RoutedMessage.admit`
    records all of it as one event, before anything is forwarded."""

    def __init__(self, **received: Any) -> None:
        self.received = received
        self.routed: dict[str, Any] | None = None
        self.legs: list[dict[str, Any]] = []
        self.refused: dict[str, Any] | None = None
        self.responded: dict[str, Any] | None = None

    def route(
        self, classification: str, targets: list[str], reason: str, via: str | None = None
    ) -> None:
        """The routing decision. `via` is the way the message leaves this node (local |
        direct | hub), when it goes to one target."""
        self.routed = {
            "classification": classification,
            "targets": targets,
            "reason": reason,
            "via": via,
        }

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
        **optional: Any,
    ) -> None:
        """One leg sent on. `optional`: further facts about the leg, kept when not None (they
        reach readers as fields of its Forwarded step)."""
        if any(known["leg"] == leg for known in self.legs):
            raise MessageStateError(f"leg {leg} was already forwarded")
        self.legs.append(
            {
                "leg": leg,
                "target_party": target_party,
                "target_connection_id": target_connection_id,
                "url": url,
                "request_id": request_id,
                "headers": headers,
                "body_sha256": body_sha256,
                "body_size": body_size,
                **{name: value for name, value in optional.items() if value is not None},
            }
        )

    def refuse(self, http_status: int, ocpi_status: int, reason: str) -> None:
        """The node answers without forwarding: unknown receiver, spoofed sender, bad input."""
        if self.refused is not None or self.responded is not None:
            raise MessageStateError("the message already has an outcome")
        self.refused = {"http_status": http_status, "ocpi_status": ocpi_status, "reason": reason}

    def respond(
        self,
        http_status: int,
        ocpi_status: int | None,
        latency_ms: float,
        headers: dict[str, str],
        body_sha256: str | None,
        body_size: int,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """What the requester gets back, when it is known before forwarding. `translation`:
        the hub's own answer (its stored copy) was translated toward the requester's version."""
        if self.responded is not None:
            raise MessageStateError("the message was already answered")
        self.responded = response_of(
            http_status, ocpi_status, latency_ms, headers, body_sha256, body_size, note, translation
        )
