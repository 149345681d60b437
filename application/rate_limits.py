"""Per-party, per-module rate limits: token buckets that answer how long to wait.

A hub is shared infrastructure: one partner's burst must not starve the others. Buckets are in
memory per node (a limit is per node; N nodes behind a balancer allow N times the rate, which
the README states), refill continuously and cost O(1) per request.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

ANY_MODULE = "*"


@dataclass(frozen=True)
class Limit:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs a positive rate and a burst of at least 1")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds, as the Retry-After header wants


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, Limit],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`limits` maps a module id (or `*` for every other module) to its limit per party."""
        self.limits = dict(limits)
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def limit_for(self, module: str) -> Limit | None:
        return self.limits.get(module) or self.limits.get(ANY_MODULE)

    def check(self, party: str, module: str) -> Decision:
        limit = self.limit_for(module)
        if limit is None:
            return Decision(True)
        key = (party, module)
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - last) * limit.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return Decision(True)
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / limit.per_second
            return Decision(False, retry_after=max(1, math.ceil(wait)))


def parse_limits(text: str) -> dict[str, Limit]:
    """Parse `module=rate/burst,...` (e.g. `tokens=5/10,*=50/100`); rate per second."""
    limits: dict[str, Limit] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        module, sep, spec = item.partition("=")
        rate, slash, burst = spec.partition("/")
        if not sep or not module.strip():
            raise ValueError(f"rate limit {item!r}: expected module=rate/burst")
        try:
            per_second = float(rate)
            burst_count = int(burst) if slash else max(1, math.ceil(per_second))
            limits[module.strip()] = Limit(per_second, burst_count)
        except ValueError as error:
            raise ValueError(f"rate limit {item!r}: {error}") from None
    return limits
