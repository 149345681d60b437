"""Processes starting on one PostgreSQL schema create their tables one after another."""

from __future__ import annotations

import threading
import time

import psycopg

from infrastructure.database_url import DatabaseUrl
from infrastructure.sql import startup_lock


def waiting_for_advisory_lock(url: DatabaseUrl) -> int:
    with psycopg.connect(url.conninfo(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_second_start_up_on_the_same_schema_waits_until_the_first_is_done(
    postgres_url: DatabaseUrl,
) -> None:
    order: list[str] = []
    second_done = threading.Event()

    def second() -> None:
        with startup_lock(postgres_url):
            order.append("second starts")
        second_done.set()

    with startup_lock(postgres_url):
        order.append("first starts")
        thread = threading.Thread(target=second, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while waiting_for_advisory_lock(postgres_url) == 0:
            assert time.monotonic() < deadline, "the second start-up never asked for the lock"
            time.sleep(0.01)
        assert order == ["first starts"]
        order.append("first done")
    assert second_done.wait(10)
    assert order == ["first starts", "first done", "second starts"]
