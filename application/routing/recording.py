"""The ledger side of an exchange: what is committed before anything is forwarded (`admit`),
what follows it (`finish`), and how a record that landed after its requester was refused is
completed so the ledger never shows a forward that did not happen."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from eventsourcing.persistence import IntegrityError

from application.bodies import Body
from application.delivery import Delivered
from application.errors import LedgerUnavailableError
from application.routing.answers import HubAnswers, describe, ocpi_status_of
from application.routing.exchange import Answer, Exchange, Leg, MessageRecorder
from domain import headers as h
from domain.messages import Admission, RoutedMessage, message_id
from domain.status_codes import HubError
from domain.values import OCPI_VERSION

log = logging.getLogger(__name__)

MAX_RETRY_ATTEMPTS = 100
NOT_RECORDED = "the message ledger cannot record right now; nothing was forwarded, retry shortly"
NOT_SENT = "not sent: the ledger confirmed the record only after the requester had been refused"


class ExchangeRecorder:
    def __init__(
        self, recorder: MessageRecorder, answers: HubAnswers, outcome_before_answer: bool = True
    ) -> None:
        self.recorder = recorder
        self.answers = answers
        self.outcome_before_answer = outcome_before_answer

    async def admit(self, exchange: Exchange) -> None:
        """Record everything decided so far; a repeated X-Request-ID becomes the next attempt."""
        request = exchange.request
        scope = request.connection.id
        retry_of: str | None = None
        for attempt in range(MAX_RETRY_ATTEMPTS):
            admission = self.received(exchange, attempt, retry_of)
            for step in exchange.steps:
                step(admission)
            message = RoutedMessage.admit(admission)
            try:
                exchange.position = await self.recorder.record(message, bodies=exchange.bodies)
            except IntegrityError:
                retry_of = str(message_id(scope, exchange.request_id, 0))
                continue
            except Exception as error:
                if isinstance(error, LedgerUnavailableError):
                    log.error("the ledger could not record %s: %s", exchange.request_id, error)
                else:
                    log.exception("the ledger could not record %s", exchange.request_id)
                exchange.unrecorded = self.answers.error(
                    exchange,
                    HubError.GENERIC,
                    NOT_RECORDED,
                    http_status=503,
                    extra_headers={"Retry-After": "1"},
                )
                if isinstance(error, LedgerUnavailableError) and error.when_committed:
                    error.when_committed(partial(self.record_unrecorded_answer, exchange, message))
                raise LedgerUnavailableError(NOT_RECORDED) from error
            exchange.message = message
            return
        raise LedgerUnavailableError(
            f"X-Request-ID {exchange.request_id} was retried more than {MAX_RETRY_ATTEMPTS} times"
        )

    def received(self, exchange: Exchange, attempt: int, retry_of: str | None) -> Admission:
        request = exchange.request
        inbound = exchange.bodies[0] if request.body else None
        return Admission(
            sender_scope=request.connection.id,
            request_id=exchange.request_id,
            attempt=attempt,
            correlation_id=exchange.correlation_id,
            connection_id=request.connection.id,
            method=request.method,
            path=request.path,
            query=request.query,
            module=request.module,
            interface=request.interface,
            headers=h.sanitize_for_ledger(exchange.headers),
            body_sha256=inbound.sha256 if inbound else None,
            body_size=len(request.body),
            from_party=str(exchange.from_party) if exchange.from_party else None,
            to_party=str(exchange.to_party) if exchange.to_party else None,
            retry_of=retry_of or request.repeats,
            sender_inferred=exchange.sender_inferred,
            adjustments=list(exchange.adjustments),
            # None reads as 2.2.1, as the records made before versions were routed
            ocpi_version=request.version if request.version != OCPI_VERSION else None,
        )

    def forward_step(self, admission: Admission, leg: Leg) -> None:
        body = Body.of(leg.body) if leg.body else None
        admission.forward(
            leg.index,
            str(leg.target.party),
            leg.target.connection_id,
            leg.url,
            leg.headers[h.X_REQUEST_ID],
            h.sanitize_for_ledger(leg.headers),
            body.sha256 if body else None,
            len(leg.body),
            translation=leg.translation,
        )

    def respond_step(
        self,
        exchange: Exchange,
        answer: Answer,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> None:
        """What the requester gets, on the admission (an answer known before forwarding)."""
        exchange.steps.append(self.response(exchange, answer, note, translation))

    def response(
        self,
        exchange: Exchange,
        answer: Answer,
        note: str | None = None,
        translation: dict[str, Any] | None = None,
    ) -> Callable[[Admission | RoutedMessage], None]:
        """Records `answer` as what the requester got, on an admission or an admitted message;
        its body joins the exchange's bodies."""
        body = Body.of(answer.body)
        exchange.bodies.append(body)

        def respond(message: Admission | RoutedMessage) -> None:
            message.respond(
                answer.http_status,
                ocpi_status_of(answer.body),
                exchange.elapsed_ms(),
                h.sanitize_for_ledger(answer.headers),
                body.sha256,
                len(answer.body),
                note=note,
                translation=translation,
            )

        return respond

    async def finish(
        self, exchange: Exchange, answer: Answer, bodies: list[Body], note: str | None = None
    ) -> Answer:
        """Record the outcome and what the requester gets, then answer. `note` says what the
        hub had to do differently (recorded with the response).

        By default the answer waits for that commit (shared with concurrent requests by the
        group committer): whoever holds an answer finds it in the ledger, even after a kill -9.
        With `outcome_before_answer` off the outcome is only queued and rides in the next group
        commit. Either way, if the store fails now the requester still gets the answer: the
        receiver has acted on the request, and a refusal would invite a duplicate; the failure
        is logged and the message shows as forwarded without outcome."""
        message = exchange.message
        assert message is not None
        exchange.bodies = list(bodies)
        respond = self.response(exchange, answer, note)
        try:
            respond(message)
            if self.outcome_before_answer:
                await self.recorder.record(message, bodies=exchange.bodies)
            else:
                self.recorder.record_behind(message, bodies=exchange.bodies)
        except LedgerUnavailableError as error:
            log.error("the outcome of %s was not recorded: %s", exchange.request_id, error)
        except Exception:
            log.exception("recording the outcome of %s failed", exchange.request_id)
        return answer

    def record_unrecorded_answer(self, exchange: Exchange, message: RoutedMessage) -> None:
        """The record of a refused request landed after all (its commit outlasted the wait):
        add that nothing was sent and what the requester got, so the ledger does not show a
        forward that never happened."""
        answer = exchange.unrecorded
        if answer is None:
            return
        if message.outcome is not None:
            # A refusal carries its own answer, which the requester did not get either; the
            # domain keeps one answer per message, so this is only logged.
            log.warning(
                "%s was recorded as refused after the requester got HTTP 503 instead",
                exchange.request_id,
            )
            return
        for leg, state in message.legs.items():
            if state["outcome"] is None:
                message.record_failure(leg, int(HubError.GENERIC), NOT_SENT, 0.0)
        body = Body.of(answer.body)
        message.respond(
            answer.http_status,
            int(HubError.GENERIC),
            exchange.elapsed_ms(),
            h.sanitize_for_ledger(answer.headers),
            body.sha256,
            len(answer.body),
        )
        self.recorder.record_behind(message, bodies=[body])

    async def record_fault(self, exchange: Exchange, error: Exception) -> Answer:
        """Answer 4000 (a hub error) for a fault of our own and record it: refused if nothing
        was admitted yet, else the open legs failed (the receiver may or may not have it)."""
        reason = f"the hub failed to handle this request ({describe(error)})"
        answer = self.answers.error(exchange, HubError.GENERIC, reason)
        message = exchange.message
        try:
            if message is None:
                exchange.steps = [
                    lambda m: m.refuse(answer.http_status, int(HubError.GENERIC), reason)
                ]
                exchange.bodies = exchange.bodies[:1] if exchange.request.body else []
                self.respond_step(exchange, answer)
                await self.admit(exchange)
                return answer
            for leg, state in message.legs.items():
                if state["outcome"] is None:
                    message.record_failure(leg, int(HubError.GENERIC), reason, 0.0)
            return await self.finish(exchange, answer, [])
        except Exception:
            log.exception("recording the fault of %s failed", exchange.request_id)
            return answer


def record_delivered(
    message: RoutedMessage,
    leg: int,
    outcome: Delivered,
    translation: dict[str, Any] | None = None,
) -> Body:
    """The receiver's answer on one leg, on the message; returns its body for the store.
    `translation`: what translating it back to the requester's version changed."""
    body = Body.of(outcome.body, outcome.headers.get(h.CONTENT_TYPE) or h.JSON)
    message.record_answer(
        leg,
        outcome.http_status,
        ocpi_status_of(outcome.body),
        outcome.latency_ms,
        h.sanitize_for_ledger(outcome.headers),
        body.sha256 if outcome.body else None,
        len(outcome.body),
        redirect_note(outcome),
        translation,
    )
    return body


def redirect_note(outcome: Delivered) -> str | None:
    if outcome.redirected_to is None:
        return None
    return f"followed the receiver's trailing-slash redirect to {outcome.redirected_to}"


def safely(step: Callable[..., None], *args: Any) -> None:
    """A ledger step on the in-memory message after forwarding: a failure is logged and the
    exchange goes on, so the requester still gets the receiver's answer."""
    try:
        step(*args)
    except Exception:
        log.exception("recording step %s failed", getattr(step, "__name__", step))
