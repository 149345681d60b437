"""The hash chain that makes the message ledger tamper-evident: pure rules, shared by the recorder
that writes links, the verifier that recomputes them and anyone checking an evidence bundle.

Each link commits to the link before it, the record's place in the log (notification id), the
record itself (originator id, version, topic, SHA-256 of the stored state bytes) and the bodies
the record references by hash. Bodies are covered by their hash, not their bytes, so a body can
be redacted (bytes dropped, hash kept) without breaking the chain.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64
"""The `prev_hash` of the first link."""

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
BODY_HASH_FIELD = "body_sha256"


@dataclass(frozen=True, slots=True)
class ChainLink:
    position: int
    """1, 2, 3, ... without gaps: a missing position is a removed link."""
    notification_id: int
    originator_id: str
    originator_version: int
    prev_hash: str
    hash: str


def link_hash(
    prev_hash: str,
    notification_id: int,
    originator_id: str,
    originator_version: int,
    topic: str,
    state: bytes,
    body_hashes: Iterable[str],
) -> str:
    material = json.dumps(
        [
            prev_hash,
            int(notification_id),
            str(originator_id),
            int(originator_version),
            topic,
            hashlib.sha256(state).hexdigest(),
            sorted(set(body_hashes)),
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


def linked_body_hashes(state: bytes) -> list[str]:
    """The body hashes a record's link commits to besides its state: the top-level
    `body_sha256` of its JSON state (the rule partners verify by, README). The hashes inside a
    message's legs and response (records written since issue 15) are covered by the state's
    own hash, as every other field is."""
    return _body_hashes(state, nested=False)


def referenced_body_hashes(state: bytes) -> list[str]:
    """Every body hash a stored event names: the `body_sha256` of its JSON state and, for a
    message stored as two events, of each leg and of the response inside it."""
    return _body_hashes(state, nested=True)


def _body_hashes(state: bytes, nested: bool) -> list[str]:
    try:
        data = json.loads(state)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    parts = [data, data.get("responded"), *(data.get("legs") or ())] if nested else [data]
    found = []
    for part in parts:
        value = part.get(BODY_HASH_FIELD) if isinstance(part, dict) else None
        if isinstance(value, str) and _SHA256_HEX.match(value) and value not in found:
            found.append(value)
    return found


def body_matches(sha256: str, data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest() == sha256


def extend_chain(
    head: ChainLink | None,
    records: Iterable[tuple[int, str, int, str, bytes]],
) -> list[ChainLink]:
    """Links for new records (notification id, originator id, version, topic, state), in
    notification order, after `head` (None for an empty chain)."""
    prev_hash = head.hash if head else GENESIS
    position = head.position if head else 0
    links = []
    for notification_id, originator_id, version, topic, state in sorted(records):
        position += 1
        digest = link_hash(
            prev_hash,
            notification_id,
            originator_id,
            version,
            topic,
            state,
            linked_body_hashes(state),
        )
        links.append(
            ChainLink(position, notification_id, str(originator_id), version, prev_hash, digest)
        )
        prev_hash = digest
    return links
