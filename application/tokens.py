"""Credentials tokens: generation, hashing for storage, constant-time comparison."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A 43-character URL-safe token: printable ASCII within OCPI's string(64).

    Never starting with "-": operators paste tokens into command lines, where a leading dash
    reads as an option (`ocpi-ledger connect URL -abc...`).
    """
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, token_hash: str | None) -> bool:
    if not token_hash:
        return False
    return hmac.compare_digest(hash_token(token), token_hash)
