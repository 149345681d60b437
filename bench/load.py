"""The load generators: OCPI token pushes with every routing header and unique X-Request-IDs.

Saturation: wrk with bench/put_token.lua, closed loop, 1 thread, 32 connections: requests/s.
Latency: bench/paced.py, open loop at a fixed 200 requests/s, each latency measured from the
instant the request was due (wrk's closed loop hides stalls and, with pauses between requests,
lets its connections fall into lockstep; wrk2 is not packaged).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.paced import PacedResult, paced

SCRIPT = Path(__file__).with_name("put_token.lua")
SATURATION_CONNECTIONS = 32
MODERATE_RATE = 200.0
"""Requests/s of the latency pass: the rate the issue's latency targets are set at."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def ensure_wrk() -> str:
    """The wrk binary; installs the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "bench needs wrk (apt-get install -y wrk failed; install it and run again)"
        )
    return found


def wrk(url: str, prefix: str, authorization: str, seconds: float, connections: int) -> WrkResult:
    env = {
        **os.environ,
        "BENCH_AUTH": authorization,
        "BENCH_PREFIX": prefix,
    }
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(SCRIPT), url]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH ") :])
    if data["errors"] or data["non2xx"] or done.stderr.strip():
        print(f"  wrk reported problems: {data} {done.stderr.strip()[:500]}", flush=True)
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        non2xx=data["non2xx"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )


def saturate(url: str, prefix: str, authorization: str, seconds: float) -> WrkResult:
    return wrk(url, prefix, authorization, seconds, SATURATION_CONNECTIONS)


def moderate(url: str, prefix: str, authorization: str, seconds: float) -> PacedResult:
    """Latency at the fixed rate of the targets, open loop (see bench/paced.py)."""
    return paced(url, prefix, authorization, MODERATE_RATE, seconds)
