"""A broadcast's legs after the originator was answered: sent concurrently, each answer or
failure recorded on the message; nothing of them reaches the originator (digest §2.5)."""

from __future__ import annotations

import asyncio
import logging

from application.bodies import Body
from application.delivery import Deliverer, Delivery, DeliveryFailed
from application.routing.exchange import Exchange, Leg, MessageRecorder
from application.routing.legs import deliver_safely
from application.routing.recording import record_delivered

log = logging.getLogger(__name__)


async def fan_out(
    deliverer: Deliverer, recorder: MessageRecorder, exchange: Exchange, legs: list[Leg]
) -> None:
    """Send a broadcast's legs at once and record every answer or failure; the originator
    was answered when the fan-out was recorded (digest §2.5)."""
    method = exchange.request.method
    outcomes = await asyncio.gather(
        *(
            deliver_safely(deliverer, Delivery(leg.target, method, leg.url, leg.headers, leg.body))
            for leg in legs
        )
    )
    message = exchange.message
    assert message is not None
    bodies: list[Body] = []
    for leg, outcome in zip(legs, outcomes, strict=True):
        try:
            if isinstance(outcome, DeliveryFailed):
                message.record_failure(
                    leg.index, int(outcome.status_code), outcome.reason, outcome.latency_ms
                )
                continue
            body = record_delivered(message, leg.index, outcome)
        except Exception:
            log.exception("recording leg %s of %s failed", leg.index, exchange.request_id)
            continue
        if outcome.body:
            bodies.append(body)
    try:
        await recorder.record(message, bodies=bodies)
    except Exception:
        log.exception("recording the broadcast outcomes of %s failed", exchange.request_id)
