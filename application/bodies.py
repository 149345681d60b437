"""Routed bodies as content-addressed values: events carry the hash, the body store the bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


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
