"""The node's deliverer alone: `HttpDeliverer` sending token pushes to the bench receiver.

No server in front, no ledger: 32 tasks on one uvloop event loop deliver as fast as they can
for a few seconds, and the process's CPU time per delivery is what the outbound HTTP client
costs the node. Run for this checkout and, with `--before`, for another one (each in a process
of its own with that checkout on PYTHONPATH), so httpx and aiohttp are compared in one run.

    python -m bench.deliverer --url http://127.0.0.1:9000 --seconds 5   # prints one JSON line
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_BODY = b'{"uid":"012345678","type":"RFID","contract_id":"NL-EMA-C12345678-X","valid":true}'


@dataclass
class DelivererResult:
    name: str
    deliveries: int
    seconds: float
    cpu_ms: float
    failed: int

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0


async def _drive(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    from application.delivery import Delivered, Delivery, Target
    from domain.values import PartyRef
    from infrastructure.forwarder import HttpDeliverer

    deliverer = HttpDeliverer(timeout=10)
    target = Target(PartyRef("NL", "CPA"), "c1", "direct", url)
    headers = {"content-type": "application/json", "x-request-id": "r", "authorization": "T x"}
    push = Delivery(target, "PUT", f"{url}/ocpi/2.2.1/tokens/NL/EMA/012345678", headers, _BODY)
    counts = {"ok": 0, "failed": 0}

    async def worker(until: float) -> None:
        while time.perf_counter() < until:
            outcome = await deliverer.deliver(push)
            counts["ok" if isinstance(outcome, Delivered) else "failed"] += 1

    # Warm-up: connections opened, code paths imported, before anything is counted.
    await asyncio.gather(*(worker(time.perf_counter() + 0.5) for _ in range(concurrency)))
    counts = {"ok": 0, "failed": 0}
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await deliverer.aclose()
    return {"deliveries": counts["ok"], "failed": counts["failed"], "seconds": elapsed, "cpu": cpu}


def run_in(repo: Path, name: str, url: str, seconds: float) -> DelivererResult:
    """One measurement in a process of its own, with `repo` first on PYTHONPATH."""
    # By file, not `-m bench.deliverer`: the other checkout may have no such module.
    command = [sys.executable, __file__, "--url", url, "--seconds", str(seconds)]
    out = subprocess.run(
        command,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    deliveries = int(data["deliveries"])
    cpu_ms = data["cpu"] * 1000 / deliveries if deliveries else 0.0
    return DelivererResult(name, deliveries, data["seconds"], cpu_ms, int(data["failed"]))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deliverer")
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(_drive(args.url, args.seconds, args.concurrency))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        del sys.path[0]  # run by file: bench/ itself must not shadow top-level modules
    sys.exit(main())
