"""BackgroundLoop: steps again at once while there is work, else after `idle` or a wake."""

from __future__ import annotations

import threading

from infrastructure.background_loop import BackgroundLoop


def counting_loop(idle_first: bool) -> tuple[BackgroundLoop, threading.Semaphore]:
    stepped = threading.Semaphore(0)

    def step() -> int:
        stepped.release()
        return 0

    return BackgroundLoop("test", step, idle=30.0, idle_first=idle_first), stepped


def test_a_loop_steps_at_start_then_waits_for_a_wake() -> None:
    loop, stepped = counting_loop(idle_first=False)
    loop.start()
    try:
        assert stepped.acquire(timeout=2)
        assert not stepped.acquire(timeout=0.2)
        loop.wake()
        assert stepped.acquire(timeout=2)
    finally:
        loop.stop()


def test_a_loop_told_to_idle_first_does_not_step_at_start() -> None:
    loop, stepped = counting_loop(idle_first=True)
    loop.start()
    try:
        assert not stepped.acquire(timeout=0.3)
        loop.wake()
        assert stepped.acquire(timeout=2)
    finally:
        loop.stop()
