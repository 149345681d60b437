"""Routed bodies as content-addressed values: events carry the hash, the body store the bytes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Body:
    sha256: str
    content_type: str
    data: bytes

    @classmethod
    def of(cls, data: bytes, content_type: str = "application/json") -> Body:
        return cls(hashlib.sha256(data).hexdigest(), content_type, data)

    @property
    def size(self) -> int:
        return len(self.data)

    def as_row(self) -> tuple[str, str, bytes]:
        return (self.sha256, self.content_type, self.data)


def json_object(body: bytes | None) -> dict[str, Any] | None:
    """The JSON object a body holds; None for anything else (no body, not JSON, a list)."""
    if not body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None
