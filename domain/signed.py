"""Signed documents (checkpoints, evidence proofs, receipts): the exact bytes a signature covers.

A document is a JSON object; its signature covers the canonical JSON of every member except
`signature` itself: keys sorted, no spaces, UTF-8, non-ASCII characters as they are. Anyone can
rebuild those bytes in a few lines of any language (Python: `json.dumps(doc, sort_keys=True,
separators=(",", ":"), ensure_ascii=False).encode()`), then check the Ed25519 signature with the
node's public key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

SIGNATURE = "signature"
KEY_ID = "key_id"
CHECKPOINT_FORMAT = "ocpi-ledger-checkpoint/1"


def signed_bytes(document: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != SIGNATURE}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(raw_public_key: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def checkpoint_document(
    node: str, heads: dict[str, tuple[int, str]], taken_at: str, signer_key_id: str
) -> dict[str, Any]:
    """What a checkpoint says (before signing): each chain's head position and hash at
    `taken_at`. Positions are dense, so a chain's position is also its record count."""
    return {
        "format": CHECKPOINT_FORMAT,
        "node": node,
        "taken_at": taken_at,
        "chains": {
            name: {"position": position, "head_hash": head_hash, "records": position}
            for name, (position, head_hash) in sorted(heads.items())
        },
        KEY_ID: signer_key_id,
    }


def covers(checkpoint: dict[str, Any], chain: str) -> tuple[int, str] | None:
    """(position, head hash) a checkpoint holds for `chain`, None if it holds none (or is
    malformed)."""
    chains = checkpoint.get("chains") if isinstance(checkpoint, dict) else None
    entry = chains.get(chain) if isinstance(chains, dict) else None
    if not isinstance(entry, dict):
        return None
    position, head_hash = entry.get("position"), entry.get("head_hash")
    if not isinstance(position, int) or not isinstance(head_hash, str):
        return None
    return position, head_hash
