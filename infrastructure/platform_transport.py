"""HTTP out of a platform node: deliveries, and the module URLs each local backend publishes."""

from __future__ import annotations

import asyncio
import base64

import httpx

from application.platform import Answer, Backend, DeliveryFailed

OCPI_VERSION = "2.2.1"


class HttpTransport:
    """One pooled client for every delivery; backends' version details cached per backend."""

    def __init__(self, timeout: float) -> None:
        self._client = httpx.AsyncClient(timeout=timeout)
        self._endpoints: dict[str, dict[tuple[str, str], str]] = {}
        self._lock = asyncio.Lock()

    async def call(
        self, method: str, url: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        target = f"{url}?{query}" if query else url
        try:
            response = await self._client.request(method, target, headers=headers, content=body)
        except httpx.TimeoutException as error:
            raise DeliveryFailed(f"no answer from {url} in time ({error!r})", True) from None
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"cannot reach {url}: {error!r}") from None
        return Answer(response.status_code, dict(response.headers), response.content)

    async def backend_module_url(self, backend: Backend, module: str, interface: str) -> str | None:
        endpoints = self._endpoints.get(backend.versions_url)
        if endpoints is None:
            async with self._lock:
                endpoints = self._endpoints.get(backend.versions_url)
                if endpoints is None:
                    endpoints = await self._discover(backend)
                    self._endpoints[backend.versions_url] = endpoints
        url = endpoints.get((module, interface.upper()))
        return url.rstrip("/") if url else None

    async def _discover(self, backend: Backend) -> dict[tuple[str, str], str]:
        """Versions URL -> 2.2.1 details -> {(module, interface): url} (digest §3)."""
        headers = {"Authorization": f"Token {base64.b64encode(backend.token.encode()).decode()}"}
        try:
            versions = await self._client.get(backend.versions_url, headers=headers)
            listed = versions.json().get("data") or []
            details_url = next(v["url"] for v in listed if v.get("version") == OCPI_VERSION)
            details = await self._client.get(details_url, headers=headers)
            endpoints = (details.json().get("data") or {}).get("endpoints") or []
        except (httpx.HTTPError, ValueError, StopIteration, KeyError, AttributeError) as error:
            raise DeliveryFailed(
                f"cannot read version details of backend {backend.versions_url}: {error!r}"
            ) from None
        return {(e["identifier"], e["role"].upper()): e["url"] for e in endpoints}

    def forget(self, backend: Backend) -> None:
        self._endpoints.pop(backend.versions_url, None)

    async def aclose(self) -> None:
        await self._client.aclose()
