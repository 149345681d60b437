"""The HTTP side of forwarding: one pooled aiohttp `ClientSession` for every leg of every message.

aiohttp's client, not httpx: delivering a token push to a local receiver cost 0.60 ms of CPU
through httpx (with the sharded pools it needed) and 0.2 ms through aiohttp, measured side by
side (`python -m bench.deliverer`, bench/README.md, issue 15).

Keep-alive connections are pooled per receiver origin, every leg has a total deadline (not only
per-phase timeouts: a receiver dribbling bytes must still end in 4002), responses are streamed
so an oversized one is cut off instead of filling memory, and each receiver has a concurrency
limit so one slow platform cannot take every connection.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import unquote, urlsplit

import aiohttp
from yarl import URL

from application.delivery import Delivered, Delivery, DeliveryFailed, DeliveryOutcome
from domain.redirects import REDIRECT_STATUSES, redirect_refusal, slash_only_redirect
from domain.status_codes import HubError
from infrastructure.http_pools import shared_ssl_context


class ResponseTooLarge(Exception):
    pass


class RedirectRefused(Exception):
    """The receiver redirected somewhere the node does not follow (domain.redirects)."""


class UrlWouldChange(Exception):
    """The request target would not be the path the routing service built, byte for byte, or
    it holds what a receiver may read as another path (dot segments): refused, so no client or
    server rule can move a request."""


# Printable ASCII without space: anything else in a request target is not HTTP/1.1, and a
# client or server would re-encode or reject it.
_TARGET_CHARACTERS = frozenset(chr(code) for code in range(0x21, 0x7F)) - {"#"}


class HttpDeliverer:
    """Delivers over one aiohttp session: up to `per_origin_connections` keep-alive connections
    per receiver origin (scheme, host, port), at most `per_receiver_concurrency` requests in
    flight per receiver (connection id) so a hanging one only makes its own requests wait.

    The session is made on first use, on the loop that serves the node.
    """

    def __init__(
        self,
        timeout: float,
        max_response_bytes: int = 20 * 1024 * 1024,
        per_receiver_concurrency: int = 64,
        per_origin_connections: int = 64,
        ca_bundle: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.per_receiver_concurrency = per_receiver_concurrency
        self.per_origin_connections = per_origin_connections
        self._ca_bundle = ca_bundle
        self._session: aiohttp.ClientSession | None = None
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _limit(self, key: str) -> asyncio.Semaphore:
        semaphore = self._limits.get(key)
        if semaphore is None:
            semaphore = self._limits[key] = asyncio.Semaphore(self.per_receiver_concurrency)
        return semaphore

    def _open_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,  # no cap over all receivers; each origin has its own
                limit_per_host=self.per_origin_connections,
                keepalive_timeout=30,
                ssl=shared_ssl_context(self._ca_bundle),
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                # The deadline is `deliver`'s own, over the whole leg.
                timeout=aiohttp.ClientTimeout(total=None),
                # Nothing carried from one message to the next: no cookie jar, no proxy from
                # the environment.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                # The body is relayed with the sender's Content-Type or none, never a guess.
                skip_auto_headers=("Content-Type",),
            )
        return session

    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        started = time.perf_counter()

        def failed(code: HubError, reason: str) -> DeliveryFailed:
            return DeliveryFailed(code, reason, (time.perf_counter() - started) * 1000)

        try:
            # The deadline covers waiting for a free slot too: the requester waits either way.
            async with asyncio.timeout(self.timeout), self._limit(delivery.target.route_key):
                return await self._send(self._open_session(), delivery, started)
        except TimeoutError:  # aiohttp's own timeouts are TimeoutErrors too
            return failed(HubError.TIMEOUT, f"no answer within {self.timeout:g} s")
        except (
            aiohttp.ClientConnectionError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientResponseError,
        ) as error:
            # Cannot connect (TLS included), connection reset or closed mid-answer, or an
            # answer that is not HTTP: the receiver could not be talked to.
            return failed(HubError.CONNECTION_PROBLEM, f"connection failed: {_describe(error)}")
        except (ResponseTooLarge, UrlWouldChange, RedirectRefused) as error:
            return failed(HubError.GENERIC, str(error))
        except aiohttp.ClientError as error:
            return failed(HubError.GENERIC, f"forwarding failed: {_describe(error)}")

    async def _send(
        self, session: aiohttp.ClientSession, delivery: Delivery, started: float
    ) -> Delivered:
        url = delivery.url
        for attempt in range(2):
            async with session.request(
                delivery.method,
                _sendable(url),
                headers=delivery.headers,
                data=delivery.body or None,
                allow_redirects=False,
            ) as response:
                if response.status in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    followed = slash_only_redirect(url, response.status, location)
                    if followed is None or attempt == 1:
                        raise RedirectRefused(redirect_refusal(response.status, location))
                    url = followed
                    continue
                body = await self._read(response)
                return Delivered(
                    http_status=response.status,
                    headers=_lower_cased(response.raw_headers),
                    body=body,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    redirected_to=url if url != delivery.url else None,
                )
        raise AssertionError("unreachable: the second answer is returned or refused")

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The answer's bytes as relayed (decoded if the receiver compressed them: the relayed
        answer carries no Content-Encoding of its own), cut off above the size limit."""
        declared = response.content_length
        if declared is not None and declared > self.max_response_bytes:
            response.close()
            raise ResponseTooLarge(self._too_large())
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()  # the rest is not read: the connection is not reused
                raise ResponseTooLarge(self._too_large())
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self) -> str:
        return f"the receiver's response is larger than {self.max_response_bytes} bytes"

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _sendable(built: str) -> URL:
    """`built` as aiohttp will send it: the request target byte for byte (yarl with
    encoded=True neither re-encodes nor removes dot segments), checked, or refused."""
    parts = urlsplit(built)
    expected = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    url = URL(built, encoded=True)
    sent = url.raw_path_qs
    if sent != expected:
        raise UrlWouldChange(
            f"not sent: the HTTP client would have sent {sent!r} instead of {expected!r}"
        )
    if not _TARGET_CHARACTERS.issuperset(expected):
        raise UrlWouldChange(f"not sent: {expected!r} is not a valid HTTP request target")
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        raise UrlWouldChange(
            f"not sent: {expected!r} has dot segments, which the receiver may resolve to"
            " another path"
        )
    return url


def _lower_cased(raw: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    """Response headers with lower-case names; a repeated header's values joined by ', '."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        known = headers.get(key)
        headers[key] = text if known is None else f"{known}, {text}"
    return headers


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
