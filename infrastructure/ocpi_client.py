"""Calls to other OCPI platforms over HTTP: bounded timeouts, tokens only in the header."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from typing import Any

import httpx

from application.credentials import BASE64, PeerAnswer, PeerUnavailableError
from domain.redirects import REDIRECT_STATUSES, redirect_refusal, slash_only_redirect
from infrastructure.http_pools import shared_ssl_context

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1_000_000


def authorization(token: str, encoding: str) -> str:
    if encoding == BASE64:
        return "Token " + base64.b64encode(token.encode("utf-8")).decode("ascii")
    return f"Token {token}"


class HttpPeerClient:
    """The PeerClient port on httpx. One pooled client; every call is bounded by `timeout`."""

    def __init__(self, timeout: float = 10.0, ca_bundle: str | None = None) -> None:
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,
            verify=shared_ssl_context(ca_bundle),
        )

    def call(
        self, method: str, url: str, token: str, encoding: str, body: Any = None
    ) -> PeerAnswer:
        headers = {
            "Authorization": authorization(token, encoding),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
        }
        content = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
        try:
            response = self.client.request(method, url, headers=headers, content=content)
            # A peer serving `/versions/` that redirects `/versions` is followed once; any
            # other redirect would carry our token somewhere the peer never published.
            followed = slash_only_redirect(
                url, response.status_code, response.headers.get("location")
            )
            if followed is not None:
                log.info("following %s's trailing-slash redirect to %s", url, followed)
                response = self.client.request(method, followed, headers=headers, content=content)
        except httpx.TimeoutException:
            raise PeerUnavailableError("no answer within the timeout") from None
        except (httpx.HTTPError, ValueError) as error:
            # The exception text may quote the request; name only its kind.
            raise PeerUnavailableError(f"transport error ({type(error).__name__})") from None
        if response.status_code in REDIRECT_STATUSES:
            raise PeerUnavailableError(
                redirect_refusal(response.status_code, response.headers.get("location"))
            )
        return _answer(response)

    def close(self) -> None:
        self.client.close()


def _answer(response: httpx.Response) -> PeerAnswer:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise PeerUnavailableError(f"answer larger than {MAX_ANSWER_BYTES} bytes")
    try:
        payload = response.json()
    except ValueError:
        if response.status_code in (401, 405):
            return PeerAnswer(response.status_code, None, "", None)
        raise PeerUnavailableError(
            f"HTTP {response.status_code} with a body that is not JSON"
        ) from None
    if not isinstance(payload, dict) or "status_code" not in payload:
        if response.status_code in (401, 405):  # e.g. a framework's {"detail": ...}
            return PeerAnswer(response.status_code, None, "", None)
        raise PeerUnavailableError(f"HTTP {response.status_code} without an OCPI envelope")
    status_code = payload.get("status_code")
    message = payload.get("status_message")
    return PeerAnswer(
        http_status=response.status_code,
        status_code=status_code if isinstance(status_code, int) else None,
        status_message=message[:300] if isinstance(message, str) else "",
        data=payload.get("data"),
    )
