"""How a peer's answer during the handshake is read (infrastructure/ocpi_client.py)."""

from __future__ import annotations

import httpx
import pytest

from application.credentials import PeerUnavailableError
from infrastructure.ocpi_client import _answer


def test_a_401_without_an_ocpi_envelope_reads_as_a_refused_token() -> None:
    # the other encoding is then tried (application/credentials.py `_get`);
    # FastAPI's own error body, as extrawest-ocpi's 2.1.1 version details answer a Base64 token
    answer = _answer(httpx.Response(401, json={"detail": "Unauthorized"}))

    assert (answer.http_status, answer.status_code, answer.ok) == (401, None, False)


def test_any_other_answer_without_an_ocpi_envelope_is_unusable() -> None:
    with pytest.raises(PeerUnavailableError, match="HTTP 500 without an OCPI envelope"):
        _answer(httpx.Response(500, json={"detail": "boom"}))
