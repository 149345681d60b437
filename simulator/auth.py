"""The OCPI `Authorization: Token ...` header, both ways.

OCPI 2.2.1-d2 says the token is Base64-encoded, yet many peers send it raw, so inbound we try
both readings. The spec's own examples encode a trailing newline
(`ZXhhbXBsZS10b2tlbgo=` is "example-token\\n"); we do not strip it, so such a header only
matches a token that really ends in a newline.
"""

from __future__ import annotations

import base64
import binascii
import secrets


def encode_token(token: str) -> str:
    return base64.b64encode(token.encode("utf-8")).decode("ascii")


def authorization_header(token: str, version: str = "2.2.1") -> str:
    """2.2 encodes the token in Base64; 2.1.1 sends it as it is."""
    if version == "2.1.1":
        return f"Token {token}"
    return f"Token {encode_token(token)}"


def token_candidates(header: str | None) -> list[str]:
    """Every token the header could mean: the strict Base64 decoding first, then the raw text."""
    if not header:
        return []
    scheme, sep, value = header.partition(" ")
    if scheme != "Token" or not sep or not value or " " in value:
        return []
    candidates: list[str] = []
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = None
    if decoded:
        candidates.append(decoded)
    if value not in candidates:
        candidates.append(value)
    return candidates


def new_token() -> str:
    """A fresh credentials token: printable ASCII, no whitespace, well under string(64)."""
    return secrets.token_urlsafe(32)
