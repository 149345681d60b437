"""Broadcast fan-out: a CPO pushes locations addressed to the hub (OCPI-to = NL*HUB); the node
relays each push to every connected eMSP (50 at size 1.0), all served by one receiver process on
distinct base URLs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import httpx
import psycopg

from bench.postgres import postgres_schema
from bench.processes import node_server, running, uvicorn_server
from bench.seed import connect
from domain.values import Role
from infrastructure.database_url import parse_database_url
from infrastructure.store import open_store


def _answered(database_url: str) -> int:
    url = parse_database_url(database_url)
    with psycopg.connect(url.conninfo()) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {url.schema}.ledger_events WHERE topic LIKE %s",
            ("%Answered",),
        ).fetchone()
    return int(row[0]) if row else 0


def broadcast(size: float, say: Callable[[str], None]) -> tuple[str, list[str]]:
    receivers = max(5, int(50 * size))
    pushes = 40
    receiver = uvicorn_server("bcast-receiver", "bench.receiver:app", {})
    with running(receiver), postgres_schema() as database_url:
        store = open_store(parse_database_url(database_url))
        try:
            auth = connect(store, f"{receiver.url}/cpo", Role.CPO, ["CPA"], "bench-cpo")
            for n in range(receivers):
                connect(store, f"{receiver.url}/e{n}", Role.EMSP, [f"E{n:02d}"], f"emsp-{n}")
        finally:
            store.close()
        node = node_server("bcast-node", database_url)
        with running(node, "/health"), httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            answer_ms = []
            for n in range(pushes):
                document = {
                    "country_code": "NL",
                    "party_id": "CPA",
                    "id": f"LOC{n}",
                    "publish": True,
                    "address": "Main St 1",
                    "city": "Utrecht",
                    "country": "NLD",
                    "coordinates": {"latitude": "52.0", "longitude": "5.1"},
                    "time_zone": "Europe/Amsterdam",
                    "last_updated": "2024-01-01T00:00:00Z",
                }
                sent = time.perf_counter()
                response = client.put(
                    f"{node.url}/ocpi/2.2.1/locations/receiver/NL/CPA/LOC{n}",
                    headers={
                        "authorization": auth,
                        "x-request-id": str(uuid.uuid4()),
                        "x-correlation-id": str(uuid.uuid4()),
                        "ocpi-from-country-code": "NL",
                        "ocpi-from-party-id": "CPA",
                        "ocpi-to-country-code": "NL",
                        "ocpi-to-party-id": "HUB",
                        "content-type": "application/json",
                    },
                    content=json.dumps(document).encode(),
                )
                answer_ms.append((time.perf_counter() - sent) * 1000)
                if response.status_code != 200 or response.json().get("status_code") != 1000:
                    raise RuntimeError(f"broadcast refused: {response.text[:300]}")
            legs = pushes * receivers
            deadline = time.monotonic() + 120
            while (done := _answered(database_url)) < legs and time.monotonic() < deadline:
                time.sleep(0.2)
            seconds = time.perf_counter() - started
    answer_ms.sort()
    say(f"broadcast: {done}/{legs} legs answered in {seconds:.1f} s ({done / seconds:.0f}/s)")
    return "Broadcast fan-out", [
        f"{pushes} location pushes from one CPO, sent one after another, each broadcast to "
        f"{receivers} eMSP connections (PostgreSQL ledger, 1 worker). The sender is answered "
        "once the fan-out is recorded; legs run behind.",
        "",
        "| receivers | legs answered | seconds | legs/s | sender's answer p50 ms | p90 ms |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {receivers} | {done:,} of {legs:,} | {seconds:.1f} | {done / seconds:,.0f} "
        f"| {answer_ms[len(answer_ms) // 2]:.1f} | {answer_ms[int(len(answer_ms) * 0.9)]:.1f} |",
    ]
