"""Counterparty receipts: what the ledger holds about one message, signed by the node, for a
party of that message only (its sender's connection or a receiver's). The partner keeps it and
checks it with the node's public key; the checkpoint position in it lets anyone later ask the
node for a bundle and see the same records at the same places.
"""

from __future__ import annotations

from typing import Any

from application.checkpoints import Checkpoints
from application.evidence import readable_state, topic_event_name
from application.records import LedgerRecords
from domain.message_steps import steps_of
from domain.signed import covers

RECEIPT_FORMAT = "ocpi-ledger-receipt/1"


class NotYourMessageError(LookupError):
    """No such message, or not one of the caller's (the same answer: ids are not disclosed)."""


def issue_receipt(
    records: LedgerRecords,
    checkpoints: Checkpoints,
    message_id: str,
    connection_id: str | None,
    issued_at: str,
) -> dict[str, Any]:
    """The signed receipt of `message_id` for the connection `connection_id` (None: the
    operator, who may see every message)."""
    stored = records.records_of(message_id)
    links = {link.originator_version: link for link in records.links_of(message_id)}
    events = [
        (r, name, state)
        for r in stored
        for name, state in steps_of(topic_event_name(r.topic), readable_state(r.state))
    ]
    if not events or events[0][1] != "Received":
        raise NotYourMessageError(message_id)
    received = events[0][2]
    receivers = {
        state.get("target_connection_id") for _, name, state in events if name == "Forwarded"
    }
    if connection_id is not None and connection_id not in {
        received.get("connection_id"),
        *receivers,
    }:
        raise NotYourMessageError(message_id)
    last = links.get(stored[-1].originator_version)
    checkpoint = checkpoints.latest()
    covered = covers(checkpoint, "ledger") if checkpoint else None
    if last is not None and (covered is None or covered[0] < last.position):
        checkpoint = checkpoints.take(send=False)
    return checkpoints.signer.sign(
        {
            "format": RECEIPT_FORMAT,
            "issued_at": issued_at,
            "issued_to": connection_id or "operator",
            "message": {
                "id": message_id,
                "request_id": received.get("request_id"),
                "correlation_id": received.get("correlation_id"),
                "from_party": received.get("from_party"),
                "to_party": received.get("to_party"),
                "module": received.get("module"),
                "interface": received.get("interface"),
                "method": received.get("method"),
                "received_at": received.get("timestamp"),
                "request_sha256": received.get("body_sha256"),
            },
            "legs": [_leg(name, state) for _, name, state in events if name in _LEG_EVENTS],
            "answer": next(
                (
                    {
                        "answered_at": state.get("timestamp"),
                        "http_status": state.get("http_status"),
                        "ocpi_status": state.get("ocpi_status"),
                        "answer_sha256": state.get("body_sha256"),
                    }
                    for _, name, state in events
                    if name == "Responded"
                ),
                None,
            ),
            "records": [
                {
                    "version": record.originator_version,
                    "event": topic_event_name(record.topic),
                    "position": links[record.originator_version].position,
                    "hash": links[record.originator_version].hash,
                }
                for record in stored
                if record.originator_version in links
            ],
            "checkpoint": checkpoint,
        }
    )


_LEG_EVENTS = ("Forwarded", "Answered", "Failed")
_LEG_FIELDS = (
    "leg", "target_party", "request_id", "http_status", "ocpi_status", "status_code", "reason",
    "latency_ms", "body_sha256",
)  # fmt: skip


def _leg(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": name,
        "at": state.get("timestamp"),
        **{k: state[k] for k in _LEG_FIELDS if k in state},
    }
