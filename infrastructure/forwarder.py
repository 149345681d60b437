"""The HTTP side of forwarding: one pooled `httpx.AsyncClient` for every leg of every message.

Keep-alive connections are reused per receiver, every leg has a total deadline (not only
httpx's per-phase timeouts: a receiver dribbling bytes must still end in 4002), responses are
streamed so an oversized one is cut off instead of filling memory, and each receiver has a
concurrency limit so one slow platform cannot take every connection of the pool.
"""

from __future__ import annotations

import asyncio
import sys
import time
from urllib.parse import urlsplit

import httpx

from application.delivery import Delivered, Delivery, DeliveryFailed, DeliveryOutcome
from domain.redirects import REDIRECT_STATUSES, redirect_refusal, slash_only_redirect
from domain.status_codes import HubError
from infrastructure.http_pools import ShardedPool, shared_ssl_context


def cache_missing_sniffio() -> None:
    """httpcore imports `sniffio` on every lock, event and shield it makes (several per
    request); without sniffio installed each attempt searches sys.path again, about a tenth
    of a forward's CPU. A None entry in sys.modules makes the miss immediate."""
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


cache_missing_sniffio()


class ResponseTooLarge(Exception):
    pass


class RedirectRefused(Exception):
    """The receiver redirected somewhere the node does not follow (domain.redirects)."""


class UrlWouldChange(Exception):
    """httpx would send another path than the one the routing service built (it removes dot
    segments and normalises encodings): refused, so no client rule can move a request."""


class HttpDeliverer:
    """One pool per receiver origin (scheme, host, port), split into small clients.

    httpcore scans every connection of a pool, with a readiness syscall each, for every request
    it starts or finishes, and every queued request against every connection: one pool for all
    receivers made a 50-receiver broadcast crawl at ~12 legs/s, and one pool of 32 busy
    connections per receiver still cost a quarter of the event loop (see `ShardedPool`). At most
    `per_origin_connections` requests per origin are in flight, so requests wait on a semaphore
    here instead of in httpcore's queue.
    """

    def __init__(
        self,
        timeout: float,
        max_response_bytes: int = 20 * 1024 * 1024,
        per_receiver_concurrency: int = 64,
        per_origin_connections: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.per_receiver_concurrency = per_receiver_concurrency
        self.per_origin_connections = per_origin_connections
        self._transport = transport
        self._ca_bundle = ca_bundle
        self._clients: dict[str, tuple[ShardedPool, asyncio.Semaphore]] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _limit(self, key: str) -> asyncio.Semaphore:
        semaphore = self._limits.get(key)
        if semaphore is None:
            semaphore = self._limits[key] = asyncio.Semaphore(self.per_receiver_concurrency)
        return semaphore

    def _client(self, url: str) -> tuple[ShardedPool, asyncio.Semaphore]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        pooled = self._clients.get(origin)
        if pooled is None:
            size = self.per_origin_connections
            pool = ShardedPool(self._make_client, size)
            pooled = self._clients[origin] = (pool, asyncio.Semaphore(size))
        return pooled

    def _make_client(self, connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=connections,
                max_keepalive_connections=connections,
                keepalive_expiry=30,
            ),
            follow_redirects=False,
            verify=shared_ssl_context(self._ca_bundle),
            transport=self._transport,
        )

    async def deliver(self, delivery: Delivery) -> DeliveryOutcome:
        started = time.perf_counter()

        def failed(code: HubError, reason: str) -> DeliveryFailed:
            return DeliveryFailed(code, reason, (time.perf_counter() - started) * 1000)

        try:
            # The deadline covers waiting for a free slot too: the requester waits either way.
            async with asyncio.timeout(self.timeout):
                pool, in_flight = self._client(delivery.url)
                limit = self._limit(delivery.target.route_key)
                async with limit, in_flight, pool.client() as client:
                    return await self._send(client, delivery, started)
        except TimeoutError:
            return failed(HubError.TIMEOUT, f"no answer within {self.timeout:g} s")
        except httpx.TimeoutException as error:
            return failed(HubError.TIMEOUT, f"no answer in time: {type(error).__name__}")
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as error:
            return failed(HubError.CONNECTION_PROBLEM, f"connection failed: {_describe(error)}")
        except (ResponseTooLarge, UrlWouldChange, RedirectRefused) as error:
            return failed(HubError.GENERIC, str(error))
        except httpx.HTTPError as error:
            return failed(HubError.GENERIC, f"forwarding failed: {_describe(error)}")

    async def _send(
        self, client: httpx.AsyncClient, delivery: Delivery, started: float
    ) -> Delivered:
        url = delivery.url
        for attempt in range(2):
            request = client.build_request(
                delivery.method,
                url,
                headers=dict(delivery.headers),
                content=delivery.body if delivery.body else None,
            )
            _check_unchanged(url, request.url)
            response = await client.send(request, stream=True)
            if response.status_code not in REDIRECT_STATUSES:
                break
            await response.aclose()
            location = response.headers.get("location")
            followed = slash_only_redirect(url, response.status_code, location)
            if followed is None or attempt == 1:
                raise RedirectRefused(redirect_refusal(response.status_code, location))
            url = followed
        try:
            declared = response.headers.get("content-length")
            if declared and declared.isdecimal() and int(declared) > self.max_response_bytes:
                raise ResponseTooLarge(self._too_large())
            chunks: list[bytes] = []
            size = 0
            # Decoded bytes: the relayed answer carries no Content-Encoding of its own.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise ResponseTooLarge(self._too_large())
                chunks.append(chunk)
        finally:
            await response.aclose()
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Delivered(
            http_status=response.status_code,
            headers=headers,
            body=b"".join(chunks),
            latency_ms=(time.perf_counter() - started) * 1000,
            redirected_to=url if url != delivery.url else None,
        )

    def _too_large(self) -> str:
        return f"the receiver's response is larger than {self.max_response_bytes} bytes"

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for pool, _ in clients.values():
            await pool.aclose()


def _check_unchanged(built: str, parsed: httpx.URL) -> None:
    parts = urlsplit(built)
    expected = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parsed.raw_path.decode("ascii") != expected:
        raise UrlWouldChange(
            f"not sent: the HTTP client would have sent {parsed.raw_path.decode('ascii')!r}"
            f" instead of {expected!r}"
        )


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
