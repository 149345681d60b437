"""Open-loop load at a fixed rate: the latency pass of the routing benchmark.

wrk is a closed loop: a connection sends its next request only after the last answer, so a
slow answer delays the requests behind it and they are never measured as slow (coordinated
omission), and connections that pause between requests drift into lockstep and queue behind
each other. wrk2 fixes both but is not packaged here. This sends request i at exactly
start + i / rate on whichever keep-alive connection is free (opening another when none is) and
measures each latency from that scheduled instant, so a stall shows in the figures.

At 200 requests/s a Python sender is far from its limits (a send and a parse cost ~0.1 ms);
the requests are the OCPI token pushes of put_token.lua.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class PacedResult:
    rate: float
    """Requests answered per second (the offered rate unless the server fell behind)."""
    requests: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def token_push(host: str, prefix: str, authorization: str, number: int, run: str) -> bytes:
    uid = f"U{number % 1000:04d}"
    body = (
        f'{{"country_code":"NL","party_id":"EMA","uid":"{uid}","type":"RFID",'
        '"contract_id":"NL-EMA-C12345678-X","issuer":"Bench eMSP","valid":true,'
        '"whitelist":"ALLOWED","last_updated":"2024-01-01T00:00:00Z"}'
    ).encode()
    head = (
        f"PUT {prefix}{uid} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: paced-{run}-{number}\r\nX-Correlation-ID: c-paced-{run}-{number}\r\n"
        "OCPI-from-country-code: NL\r\nOCPI-from-party-id: EMA\r\n"
        "OCPI-to-country-code: NL\r\nOCPI-to-party-id: CPA\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bool:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    return head.startswith(b"HTTP/1.1 200") and b'"status_code":1000' in body


async def _run(
    url: str, prefix: str, authorization: str, rate: float, seconds: float
) -> PacedResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    latencies: list[float] = []
    errors = 0
    run = f"{time.time_ns():x}"
    count = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(number: int, due: float) -> None:
        nonlocal opened, errors
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if idle:
            connection = idle.pop()
        elif opened < MAX_CONNECTIONS:
            opened += 1
            connection = await asyncio.open_connection(host, port)
        else:
            errors += 1  # the server holds every connection: count it, never queue silently
            return
        try:
            request = token_push(parts.netloc, prefix, authorization, number, run)
            ok = await _exchange(*connection, request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            connection[1].close()
            opened -= 1
            return
        latencies.append((time.perf_counter() - due) * 1000)
        errors += 0 if ok else 1
        idle.append(connection)

    tasks = [asyncio.create_task(one(n, start + n / rate)) for n in range(count)]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for _, writer in idle:
        writer.close()
    latencies.sort()

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return PacedResult(
        rate=len(latencies) / elapsed,
        requests=len(latencies),
        errors=errors,
        p50_ms=quantile(0.50),
        p90_ms=quantile(0.90),
        p99_ms=quantile(0.99),
        max_ms=latencies[-1] if latencies else 0.0,
    )


def paced(url: str, prefix: str, authorization: str, rate: float, seconds: float) -> PacedResult:
    return asyncio.run(_run(url, prefix, authorization, rate, seconds))
