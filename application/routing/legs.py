"""One forwarded request (a leg): its URL, body and the headers the receiver gets (digest §2.4
step 5, §2.5): a new X-Request-ID, the correlation id, the hub's token for that receiver, and the
routing headers unchanged except an inferred FROM or an open-routed TO (a broadcast leg goes
from the hub to its target)."""

from __future__ import annotations

import logging
import uuid

from application.delivery import Deliverer, Delivery, DeliveryFailed, DeliveryOutcome, Target
from application.routing.answers import describe
from application.routing.exchange import Exchange, Leg
from domain import headers as h
from domain.routing import RouteClass
from domain.status_codes import HubError
from domain.values import PartyRef


def build_leg(
    exchange: Exchange,
    index: int,
    target: Target,
    url: str,
    body: bytes,
    route_class: RouteClass,
    *,
    open_to: PartyRef | None = None,
    broadcast: bool = False,
    hub: PartyRef | None = None,
) -> Leg:
    content_type = (exchange.headers.get(h.CONTENT_TYPE) or h.JSON) if body else None
    authorization = target.authorization() or ""
    request_id = str(uuid.uuid4())
    if broadcast:
        assert hub is not None, "only a hub broadcasts"
        headers = h.broadcast_leg_headers(
            exchange.headers,
            request_id,
            exchange.correlation_id,
            authorization,
            content_type,
            hub=hub,
            target=target.party,
        )
    else:
        # FROM and TO travel unchanged; only an inferred FROM or an open-routed (or
        # callback) TO is filled in.
        headers = h.forward_request_headers(
            exchange.headers,
            request_id,
            exchange.correlation_id,
            authorization,
            content_type,
            from_party=exchange.from_party if exchange.sender_inferred else None,
            to_party=open_to if exchange.to_party != open_to else None,
        )
    if not authorization:
        headers.pop(h.AUTHORIZATION, None)
    return Leg(index, target, url, headers, body)


log = logging.getLogger(__name__)


async def deliver_safely(deliverer: Deliverer, delivery: Delivery) -> DeliveryOutcome:
    """Send one leg. A deliverer reports network trouble itself; anything it raises is a fault
    of ours, and whether the receiver got the request is unknown: say so, as a failed leg."""
    try:
        return await deliverer.deliver(delivery)
    except Exception as error:
        log.exception("delivering to %s failed", delivery.url)
        return DeliveryFailed(
            HubError.GENERIC, f"forwarding failed inside the hub ({describe(error)})", 0.0
        )
