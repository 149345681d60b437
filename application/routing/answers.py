"""What the hub says itself: OCPI envelopes for its own answers (acknowledgements, refusals,
hub errors), and how it reads the envelopes it relays (status code, JSON well-formedness)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from application.delivery import Delivered, Target
from application.routing.exchange import Answer, Exchange, RoutingConfig
from domain import headers as h
from domain.versions import V2_1_1

_STATUS_CODE = re.compile(rb'"status_code"\s*:\s*(\d{4})')


class HubAnswers:
    """The hub's own answers to one exchange, addressed back to its sender."""

    def __init__(self, config: RoutingConfig) -> None:
        self.config = config

    def ok(self, exchange: Exchange, data: bytes | None, message: str = "") -> Answer:
        envelope = [b"{"]
        if data is not None:
            envelope.append(b'"data":' + data + b",")
        envelope.append(b'"status_code":1000,')
        if message:
            envelope.append(b'"status_message":' + json.dumps(message).encode() + b",")
        envelope.append(b'"timestamp":"' + timestamp().encode() + b'"}')
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=self.config.hub,
        )
        return Answer(200, headers, b"".join(envelope))

    @staticmethod
    def code_for(exchange: Exchange, status_code: int) -> int:
        """The status code the requester's version has: OCPI 2.1.1 has no hub codes (4xxx), so
        a 2.1.1 party gets 2001 for an unknown receiver (what it sent names nobody the hub
        knows) and 3000 for the others (the failure is on the server side)."""
        if exchange.request.version != V2_1_1 or not 4000 <= status_code < 5000:
            return status_code
        return 2001 if status_code == 4001 else 3000

    def error(
        self,
        exchange: Exchange,
        status_code: int,
        message: str,
        http_status: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        if http_status is None:
            http_status = self.config.hub_error_http_status if 4000 <= status_code < 5000 else 200
        spoken = self.code_for(exchange, status_code)
        if spoken != status_code:
            message = f"{message} (hub error {status_code}; OCPI 2.1.1 has no hub status codes)"
            status_code = spoken
        body = json.dumps(
            {"status_code": status_code, "status_message": message, "timestamp": timestamp()},
            separators=(",", ":"),
        ).encode()
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=self.config.hub,
        )
        headers.update(extra_headers or {})
        return Answer(http_status, headers, body)

    def plain_relay(self, exchange: Exchange, target: Target, outcome: Delivered) -> Answer:
        """The receiver's answer with only the headers that need no rewriting: what the
        requester gets when rewriting Link or Location failed (their upstream URLs are never
        relayed)."""
        headers = h.hub_answer_headers(
            exchange.request_id,
            exchange.correlation_id,
            requester=exchange.from_party,
            hub=target.party,
        )
        content_type = outcome.headers.get(h.CONTENT_TYPE)
        if content_type:
            headers[h.CONTENT_TYPE] = content_type
        return Answer(outcome.http_status, headers, outcome.body)


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    cause = error.__cause__
    return f"{text} ({describe(cause)})" if cause is not None else text


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def json_problem(body: bytes) -> str | None:
    """Why `body` is not JSON, or None if it is."""
    try:
        json.loads(body)
    except UnicodeDecodeError:
        return "not UTF-8"
    except ValueError as error:
        return str(error)
    return None


def ocpi_status_of(body: bytes) -> int | None:
    """The envelope's status_code, for the ledger. Small bodies are parsed; for large ones the
    last status_code near the end is taken (the envelope puts it after `data`)."""
    if not body:
        return None
    if len(body) <= 64 * 1024:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        code = document.get("status_code") if isinstance(document, dict) else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None
    matches = _STATUS_CODE.findall(body[-4096:]) or _STATUS_CODE.findall(body[:4096])
    return int(matches[-1]) if matches else None
