"""Outbound HTTP clients of the simulator."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # building a context per client costs ~50 ms (CA bundle load); tests make hundreds of calls
    return ssl.create_default_context()


def async_client(timeout: float = 10.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, verify=_ssl_context())
