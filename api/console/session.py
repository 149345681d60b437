"""Console sessions: a signed, expiring cookie earned with the admin token, and its CSRF token.

Stateless on purpose: a node may serve from several worker processes, and every one of them
must accept a session any other one issued. The signing key is a random secret shared through
the registry database, mixed with the admin token's hash, so changing the admin token signs
every console session out. The CSRF token is derived from the session, so a form posted from
another site (which cannot read the page) never carries the right one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "ocpi_console"
LOGIN_COOKIE = "ocpi_console_login"
LIFETIME_SECONDS = 8 * 3600


def session_key(shared_secret: str, admin_token_hash: str) -> bytes:
    return hmac.new(shared_secret.encode(), admin_token_hash.encode(), hashlib.sha256).digest()


def _sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    nonce: str
    expires: int
    csrf: str


def issue(key: bytes, now: float | None = None) -> tuple[str, Session]:
    """A new session: the cookie value to set and what it stands for."""
    expires = int((time.time() if now is None else now) + LIFETIME_SECONDS)
    nonce = secrets.token_urlsafe(18)
    payload = f"{expires}.{nonce}"
    cookie = f"{payload}.{_sign(key, payload)}"
    return cookie, Session(nonce, expires, csrf_token(key, nonce))


def csrf_token(key: bytes, nonce: str) -> str:
    return _sign(key, f"csrf|{nonce}")


def read(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session a cookie stands for, or None if it is missing, forged or expired."""
    if not cookie:
        return None
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    expires_text, nonce, signature = parts
    if not hmac.compare_digest(_sign(key, f"{expires_text}.{nonce}"), signature):
        return None
    expires = int(expires_text)
    if expires <= (time.time() if now is None else now):
        return None
    return Session(nonce, expires, csrf_token(key, nonce))


def csrf_matches(session: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf, submitted or "")
