"""Hub routing of functional-module traffic (see `service` for the order of every exchange).

One idea per module: `exchange` (the values of one request), `route_finder` (where a message
goes; read-only, also what the admin dry runs call), `recording` (what the ledger holds and
when), `links` (the hub's callback and CDR URLs), `answers` (the hub's own envelopes),
`hub_reads` (answers from the hub object store), `service` (the flows that tie them together).
"""

from application.routing.answers import json_problem, ocpi_status_of
from application.routing.exchange import Answer, InboundRequest, MessageRecorder, RoutingConfig
from application.routing.route_finder import BroadcastExplanation, RouteExplanation
from application.routing.service import RoutingService

__all__ = [
    "Answer",
    "BroadcastExplanation",
    "InboundRequest",
    "MessageRecorder",
    "RouteExplanation",
    "RoutingConfig",
    "RoutingService",
    "json_problem",
    "ocpi_status_of",
]
