"""One small SQL access layer for both stores, so each read model is written once.

Statements use `%s` placeholders (psycopg style); the SQLite side rewrites them to `?`.
Only SQL that both PostgreSQL and SQLite (>= 3.35) understand belongs in read models.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from infrastructure.database_url import DatabaseUrl

Row = dict[str, Any]

_SINGLE_ROW_VALUES = re.compile(r"\bVALUES\s*(\((?:\s*%s\s*,)*\s*%s\s*\))", re.IGNORECASE)
_MAX_PARAMETERS = 30_000
"""PostgreSQL takes at most 65,535 parameters in one statement; stay well below."""


@lru_cache(maxsize=64)
def multi_row(sql: str, width: int, count: int) -> str | None:
    """`INSERT ... VALUES ($1, $2), ($3, $4) ...`: `count` rows in one statement, in
    PostgreSQL's own numbered placeholders, or None when `sql` is not an insert of one row of
    `width` `%s` placeholders.

    Numbered placeholders let a `RawCursor` send the statement as it is: psycopg's parser of
    `%s` costs about 10 µs per placeholder, more than the server spends inserting the row."""
    match = _SINGLE_ROW_VALUES.search(sql)
    if match is None or not sql.lstrip().upper().startswith("INSERT") or "%%" in sql:
        return None
    if match.group(1).count("%s") != width or sql.count("%s") != width:
        return None
    rows = ", ".join(
        "(" + ", ".join(f"${row * width + column}" for column in range(1, width + 1)) + ")"
        for row in range(count)
    )
    return f"{sql[: match.start(1)]}{rows}{sql[match.end(1) :]}"


class Cursor:
    def __init__(self, raw: Any, dialect: str) -> None:
        self._raw = raw
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self._dialect == "sqlite":
            self._raw.execute(sql.replace("%s", "?"), tuple(params))
        else:
            self._raw.execute(sql, tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run `sql` for each row. On PostgreSQL an `INSERT ... VALUES (...)` becomes one
        statement of many rows: psycopg spends tens of µs of Python per executed row, which
        made the read models' writes most of their cost. Rows of one call must not conflict
        with each other (ON CONFLICT DO UPDATE may touch a row once per statement); the
        writers collect their rows by key, so they never do."""
        if not rows:
            return
        if self._dialect == "sqlite":
            self._raw.executemany(sql.replace("%s", "?"), [tuple(r) for r in rows])
            return
        width = len(rows[0])
        chunk = max(1, _MAX_PARAMETERS // max(width, 1))
        if multi_row(sql, width, 1) is None:
            self._raw.executemany(sql, [tuple(r) for r in rows])
            return
        raw = psycopg.RawCursor(self._raw.connection)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            statement = multi_row(sql, width, len(part))
            assert statement is not None
            raw.execute(statement, [value for row in part for value in row])

    def fetchone(self) -> Row | None:
        row = self._raw.fetchone()
        return None if row is None else dict(row)

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._raw.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


class Database:
    dialect: str

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        raise NotImplementedError
        yield  # pragma: no cover

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as cursor:
            return cursor.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def ping(self, timeout: float | None = None) -> bool:
        """Whether the database answers; `timeout` bounds the wait for a connection where
        the database has a pool (a store outage must not hold a health check for long)."""
        try:
            self.query("SELECT 1 AS ok")
        except Exception:
            return False
        return True

    def close(self) -> None:
        pass


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        raw = conn.cursor()
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield Cursor(raw, self.dialect)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            raw.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raw = self._connection().execute(sql.replace("%s", "?"), tuple(params))
        return [dict(r) for r in raw.fetchall()]

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._all.clear()
        self._local = threading.local()


RECONNECT_TIMEOUT = 10.0
"""Seconds a psycopg pool keeps retrying a failed connect before it starts over.

The pool's default (5 min) backs off up to minutes between attempts, and while it retries it
does not try to grow again: after a short outage or a moment of "too many clients" the pool
stays short of connections and callers time out long after the server is fine again.
"""


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: DatabaseUrl, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url.conninfo(),
            min_size=min_size,
            max_size=max_size,
            kwargs={
                "row_factory": dict_row,
                "options": f"-c search_path={url.schema}",
                "connect_timeout": 5,
            },
            timeout=10,
            reconnect_timeout=RECONNECT_TIMEOUT,
            open=True,
        )

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as raw:
            yield Cursor(raw, self.dialect)

    def ping(self, timeout: float | None = None) -> bool:
        try:
            with self.pool.connection(timeout=timeout) as conn:
                conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.pool.connection() as conn, conn.cursor() as raw:
            raw.execute(sql, tuple(params))
            rows = [dict(r) for r in raw.fetchall()] if raw.description else []
            conn.commit()
            return rows

    def close(self) -> None:
        self.pool.close()


@contextmanager
def startup_lock(url: DatabaseUrl) -> Iterator[None]:
    """Serialise the start-ups of processes sharing one PostgreSQL schema (uvicorn workers,
    nodes): CREATE TABLE IF NOT EXISTS is not safe against a concurrent create of the same
    table, the loser fails on pg_type's unique index. SQLite's write lock serialises by itself."""
    if not url.is_postgres:
        yield
        return
    with psycopg.connect(url.conninfo(), autocommit=True, connect_timeout=5) as conn:
        # A session lock: released by the unlock, or by the connection closing if we crash.
        key = f"ocpi-ledger start-up {url.dbname}.{url.schema}"
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


def ensure_postgres_schema(url: DatabaseUrl) -> None:
    with psycopg.connect(url.conninfo(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{url.schema}"')
