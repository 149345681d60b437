"""One message's whole story, read from the ledger itself (not from a view): the request as
received, the routing decision and its reason, every leg with its answer or failure, what the
requester got back, with timings, chain links, sanitised headers and bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from application.records import LedgerRecords, body_view, decode, event_fields, event_name
from domain.headers import sanitize_for_ledger
from domain.message_steps import step_events


def _ms_between(start: datetime, moment: datetime) -> float:
    return round((moment - start).total_seconds() * 1000, 3)


def message_timeline(
    records: LedgerRecords, mapper: Mapper[UUID], message_id: str
) -> dict[str, Any] | None:
    stored = records.records_of(message_id)
    if not stored:
        return None
    links = {link.originator_version: link for link in records.links_of(message_id)}
    # One entry per step, whether the message is stored as two events or one per step (as
    # before issue 15): the timeline reads the same either way; steps of one stored event
    # share its version, notification id and chain link.
    events = [(record, step) for record in stored for step in step_events(decode(mapper, record))]
    hashes = {e.body_sha256 for _, e in events if getattr(e, "body_sha256", None)}
    bodies = records.bodies(hashes)

    def body(sha256: str | None) -> dict[str, Any] | None:
        return None if not sha256 else body_view(bodies.get(sha256), sha256)

    start = events[0][1].timestamp
    steps: list[dict[str, Any]] = []
    request: dict[str, Any] = {}
    routing: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    legs: dict[int, dict[str, Any]] = {}
    for record, event in events:
        name = event_name(event)
        fields = event_fields(event)
        if "headers" in fields:
            fields["headers"] = sanitize_for_ledger(fields["headers"])
        link = links.get(record.originator_version)
        at = event.timestamp.isoformat()
        steps.append(
            {
                "event": name,
                "at": at,
                "offset_ms": _ms_between(start, event.timestamp),
                "version": record.originator_version,
                "notification_id": record.notification_id,
                "chain": None if link is None else {"position": link.position, "hash": link.hash},
                "data": fields,
            }
        )
        if name == "Received":
            request = {**fields, "at": at, "body": body(fields.get("body_sha256"))}
        elif name == "Routed":
            routing = {**fields, "at": at}
        elif name == "Forwarded":
            legs[fields["leg"]] = {
                **fields,
                # the loss report of a leg translated between OCPI versions (None: sent as is)
                "translation": fields.get("translation"),
                "forwarded_at": at,
                "body": body(fields.get("body_sha256")),
                "outcome": "pending",
            }
        elif name in ("Answered", "Failed"):
            leg = legs.setdefault(fields["leg"], {"leg": fields["leg"]})
            result = {k: v for k, v in fields.items() if k != "leg"}
            if name == "Answered":
                result["translation"] = fields.get("translation")
            if name == "Answered":
                result["body"] = body(fields.get("body_sha256"))
            leg.update(outcome=name.lower(), result=result, completed_at=at)
        elif name in ("Responded", "Refused"):
            response = {
                **fields,
                "kind": name.lower(),
                "at": at,
                "offset_ms": _ms_between(start, event.timestamp),
                "body": body(fields.get("body_sha256")),
            }
    return {
        "id": message_id,
        "request": request,
        "routing": routing,
        "legs": [legs[n] for n in sorted(legs)],
        "response": response,
        "events": steps,
    }
