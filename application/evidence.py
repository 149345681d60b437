"""Dispute evidence: every record, body and chain link behind a correlation id or an object id,
in one self-contained JSON bundle, and `verify_bundle`, which checks such a bundle on its own.

`verify_bundle` needs nothing but the bundle (stdlib + `domain/chain.py`): it recomputes each
record's link from the exact stored event bytes, checks each body against the hash the records
name, accepts a missing body only where a BodyRedacted record in the bundle says it was
redacted, and checks that the readable copy of each event says what the stored bytes say.
A bundle proves its records were in the chain as exported; to prove they are still in the
node's chain, compare the link hashes (or the chain head) with `POST /admin/ledger/verify`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from application.records import LedgerRecords
from domain.chain import ChainLink, body_matches, link_hash, referenced_body_hashes

BUNDLE_FORMAT = "ocpi-ledger-evidence/1"
MAX_MESSAGES = 2000


def readable_state(state: bytes) -> Any:
    """The event's JSON state with the transcoder's {"_type_", "_data_"} wrappers unwrapped."""

    def unwrap(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"_type_", "_data_"}:
                return unwrap(value["_data_"])
            return {k: unwrap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unwrap(v) for v in value]
        return value

    return unwrap(json.loads(state))


def _event_name(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


def _link(link: ChainLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {"position": link.position, "prev_hash": link.prev_hash, "hash": link.hash}


def _record_entry(record: Any, link: ChainLink | None) -> dict[str, Any]:
    return {
        "notification_id": record.notification_id,
        "originator_id": record.originator_id,
        "originator_version": record.originator_version,
        "topic": record.topic,
        "event": _event_name(record.topic),
        "state_base64": base64.b64encode(record.state).decode(),
        "readable": readable_state(record.state),
        "link": _link(link),
    }


def build_bundle(
    records: LedgerRecords,
    message_ids: Iterable[str],
    *,
    subject: dict[str, Any],
    generated_at: str,
    node: dict[str, Any] | None = None,
) -> dict[str, Any]:
    messages = []
    hashes: set[str] = set()
    for message_id in message_ids:
        links = {link.originator_version: link for link in records.links_of(message_id)}
        entries = []
        for record in records.records_of(message_id):
            hashes.update(referenced_body_hashes(record.state))
            entries.append(_record_entry(record, links.get(record.originator_version)))
        messages.append({"id": message_id, "records": entries})
    bodies = records.bodies(hashes)
    redactions = []
    for record in records.redaction_records(s for s, b in bodies.items() if b.data is None):
        link = next(
            (
                candidate
                for candidate in records.links_of(record.originator_id)
                if candidate.originator_version == record.originator_version
            ),
            None,
        )
        redactions.append(_record_entry(record, link))
    head = records.head()
    return {
        "format": BUNDLE_FORMAT,
        "generated_at": generated_at,
        "subject": subject,
        "node": node or {},
        "chain_head": _link(head),
        "messages": messages,
        "redactions": redactions,
        "bodies": {
            sha: {
                "content_type": bodies[sha].content_type if sha in bodies else None,
                "size": bodies[sha].size if sha in bodies else None,
                "data_base64": (
                    base64.b64encode(bodies[sha].data).decode()
                    if sha in bodies and bodies[sha].data is not None
                    else None
                ),
                "status": (
                    "missing"
                    if sha not in bodies
                    else "redacted"
                    if bodies[sha].data is None
                    else "kept"
                ),
            }
            for sha in sorted(hashes)
        },
    }


def verify_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """Check a bundle on its own. Returns {ok, records, bodies_kept, bodies_redacted, problems}."""
    problems: list[dict[str, Any]] = []

    def problem(kind: str, detail: str, entry: dict[str, Any] | None = None) -> None:
        where = {}
        if entry is not None:
            where = {
                "originator_id": entry.get("originator_id"),
                "originator_version": entry.get("originator_version"),
                "notification_id": entry.get("notification_id"),
            }
        problems.append({"kind": kind, "detail": detail, **where})

    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        return _result(False, 0, 0, 0, [{"kind": "format", "detail": "not an evidence bundle"}])
    redacted: set[str] = set()
    for entry in bundle.get("redactions", []):
        state = _check_record(entry, problem)
        if state is not None:
            redacted.update(referenced_body_hashes(state))
    referenced: dict[str, dict[str, Any]] = {}
    count = 0
    for message in bundle.get("messages", []):
        last_position = 0
        for entry in message.get("records", []):
            count += 1
            if entry.get("originator_id") != message.get("id"):
                problem("record_foreign", "record belongs to another message", entry)
            state = _check_record(entry, problem)
            if state is None:
                continue
            position = entry["link"]["position"]
            if position <= last_position:
                problem("record_reordered", "records of the message are out of chain order", entry)
            last_position = position
            for sha in referenced_body_hashes(state):
                referenced.setdefault(sha, entry)
    kept = redacted_count = 0
    bodies = bundle.get("bodies", {})
    for sha, entry in referenced.items():
        body = bodies.get(sha)
        data = None if body is None else body.get("data_base64")
        if body is None:
            problem("body_missing", f"body {sha} is not in the bundle", entry)
        elif data is None:
            if sha in redacted:
                redacted_count += 1
            else:
                problem("body_removed", f"body {sha} has no bytes and no redaction", entry)
        elif not body_matches(sha, _b64(data) or b""):
            problem("body_altered", f"body {sha} does not hash to its name", entry)
        else:
            kept += 1
    return _result(not problems, count, kept, redacted_count, problems)


def _b64(text: Any) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        return None


def _check_record(entry: dict[str, Any], problem: Any) -> bytes | None:
    """Recompute the record's link; returns its state bytes if the record verifies."""
    state = _b64(entry.get("state_base64"))
    link = entry.get("link")
    if state is None:
        problem("record_unreadable", "state_base64 is not base64", entry)
        return None
    if not isinstance(link, dict):
        problem("record_unchained", "record has no chain link", entry)
        return None
    try:
        digest = link_hash(
            link["prev_hash"],
            entry["notification_id"],
            entry["originator_id"],
            entry["originator_version"],
            entry["topic"],
            state,
            referenced_body_hashes(state),
        )
    except (KeyError, TypeError, ValueError):
        problem("record_unreadable", "record or link lacks a field", entry)
        return None
    if digest != link.get("hash"):
        problem("record_altered", "record does not match its chain link", entry)
        return None
    try:
        readable = readable_state(state)
    except ValueError:
        readable = None
    if entry.get("readable") != readable:
        problem("readable_altered", "the readable copy differs from the stored bytes", entry)
    return state


def _result(
    ok: bool, records: int, kept: int, redacted: int, problems: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "ok": ok,
        "records": records,
        "bodies_kept": kept,
        "bodies_redacted": redacted,
        "problems": problems,
    }
