"""Shared fixtures: every storage, projection and routing test runs on SQLite and PostgreSQL.

PostgreSQL comes from OCPI_LEDGER_TEST_POSTGRES_URL (default: DEFAULT_POSTGRES_URL below).
Each test gets a schema of its own, dropped afterwards, so runs never collide. Without a server
the PostgreSQL variants skip with instructions; with CI=true they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from infrastructure.database_url import DatabaseUrl, parse_database_url
from infrastructure.store import Store, open_store

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
STORES = ["sqlite", "postgres"]


def postgres_base_url() -> DatabaseUrl:
    return parse_database_url(os.environ.get("OCPI_LEDGER_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


_reachable: bool | None = None


def require_postgres() -> DatabaseUrl:
    global _reachable
    url = postgres_base_url()
    if _reachable is None:
        try:
            with psycopg.connect(url.conninfo(), connect_timeout=3):
                _reachable = True
        except psycopg.OperationalError:
            _reachable = False
    if not _reachable:
        message = (
            f"PostgreSQL not reachable at {url.redacted()}: start it "
            "(e.g. pg_ctlcluster 15 main start) or set OCPI_LEDGER_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def drop_schema(url: DatabaseUrl) -> None:
    with psycopg.connect(url.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{url.schema}" CASCADE')


@pytest.fixture
def postgres_url() -> Iterator[DatabaseUrl]:
    url = require_postgres().with_schema(f"t_{uuid.uuid4().hex[:12]}")
    yield url
    drop_schema(url)


def fresh_database(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseUrl]:
    """A new empty store of `kind` ("sqlite" or "postgres"), removed afterwards."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("ledger") / "ocpi-ledger.db"
        yield parse_database_url(f"sqlite:///{path}")
        return
    url = require_postgres().with_schema(f"t_{uuid.uuid4().hex[:12]}")
    yield url
    drop_schema(url)


@pytest.fixture(params=STORES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseUrl]:
    yield from fresh_database(request.param, tmp_path_factory)


@pytest.fixture
def store(database_url: DatabaseUrl) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.close()
