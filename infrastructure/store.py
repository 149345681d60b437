"""Opens the event stores and read-model databases for a database URL.

SQLite: the registry (and its read models) live in the file named by the URL, the message log in
a sibling file `<name>.messages.db`, because SQLite locks a whole file per writer and routed
traffic must not stall connection handling. PostgreSQL: one database (and schema), separate
tables per application.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from eventsourcing.utils import get_topic

from application.ledger import MessageLedger
from application.registry import Registry
from infrastructure.database_url import DatabaseUrl
from infrastructure.recorders import (
    PostgresLedgerRecorder,
    PostgresRegistryRecorder,
    SQLiteLedgerRecorder,
    SQLiteRegistryRecorder,
)
from infrastructure.sql import (
    RECONNECT_TIMEOUT,
    Database,
    PostgresDatabase,
    SqliteDatabase,
    ensure_postgres_schema,
)
from infrastructure.transcoding import MroJSONTranscoder, OrjsonTranscoder


@dataclass
class Store:
    url: DatabaseUrl
    registry: Registry
    ledger: MessageLedger
    registry_db: Database
    ledger_db: Database

    def close(self) -> None:
        for closable in (self.registry, self.ledger, self.registry_db, self.ledger_db):
            # Closing is best effort: a dead pool must not block shutdown.
            with suppress(Exception):
                closable.close()

    @property
    def channels(self) -> list[str]:
        return [f"{Registry.name}_events", f"{MessageLedger.name}_events"]


def _common_env() -> dict[str, str]:
    return {"TRANSCODER_TOPIC": get_topic(MroJSONTranscoder), "IS_SNAPSHOTTING_ENABLED": "n"}


def app_env(url: DatabaseUrl, sqlite_path: str, recorder: type | None = None) -> dict[str, str]:
    env = _common_env()
    if recorder in (PostgresLedgerRecorder, SQLiteLedgerRecorder):
        # Every routed message is encoded on the hot path and decoded by every view.
        env["TRANSCODER_TOPIC"] = get_topic(OrjsonTranscoder)
    if url.is_postgres:
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=url.dbname,
            POSTGRES_HOST=url.host,
            POSTGRES_PORT=str(url.port),
            POSTGRES_USER=url.user,
            POSTGRES_PASSWORD=url.password,
            POSTGRES_SCHEMA=url.schema,
            POSTGRES_LOCK_TIMEOUT="5",
            POSTGRES_CONNECT_TIMEOUT="5",
            # Budget per node, so that several nodes (and test runs) fit PostgreSQL's default
            # max_connections of 100: each app <= 8, each read-model pool <= 8, one LISTEN.
            POSTGRES_POOL_SIZE="2",
            POSTGRES_MAX_OVERFLOW="6",
            # Not for the ledger: a ping before every commit is one more round trip on each
            # routed message; a dead connection fails the statement and the recorder retries
            # on a fresh one.
            POSTGRES_PRE_PING="n" if recorder is PostgresLedgerRecorder else "y",
        )
        if recorder is not None:
            env["APPLICATION_RECORDER_TOPIC"] = get_topic(recorder)
    else:
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=sqlite_path,
            SQLITE_LOCK_TIMEOUT="30",
        )
        if recorder is not None:
            env["APPLICATION_RECORDER_TOPIC"] = get_topic(recorder)
    return env


class StoreUnavailableError(Exception):
    """The store named by the settings cannot be reached or opened (one line, for people)."""


def probe_store(url: DatabaseUrl) -> None:
    """Fail fast, with one line naming the setting and the cause, when the store cannot be
    used: start-up would otherwise end in a long traceback from deep inside a library."""
    if url.is_postgres:
        try:
            with psycopg.connect(url.conninfo(), connect_timeout=5):
                return
        except psycopg.Error as error:
            cause = " ".join(str(error).split()) or type(error).__name__
            raise StoreUnavailableError(
                f"OCPI_LEDGER_DATABASE_URL: cannot connect to PostgreSQL at {url.redacted()}:"
                f" {cause}"
            ) from None
    for path in (url.sqlite_path, url.sibling_sqlite_path("messages")):
        folder = Path(path).resolve().parent
        if not folder.is_dir():
            raise StoreUnavailableError(
                f"OCPI_LEDGER_DATABASE_URL: cannot open the SQLite file {path}:"
                f" the folder {folder} does not exist"
            )
        try:
            connection = sqlite3.connect(path, timeout=5)
            try:
                connection.execute("PRAGMA schema_version").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise StoreUnavailableError(
                f"OCPI_LEDGER_DATABASE_URL: cannot open the SQLite file {path}: {error}"
            ) from None


def open_store(url: DatabaseUrl) -> Store:
    if url.is_postgres:
        ensure_postgres_schema(url)
        registry = Registry(env=app_env(url, "", PostgresRegistryRecorder))
        ledger = MessageLedger(env=app_env(url, "", PostgresLedgerRecorder))
        for app in (registry, ledger):
            # The library's pools take no setting for it; see RECONNECT_TIMEOUT.
            app.recorder.datastore.pool.reconnect_timeout = RECONNECT_TIMEOUT  # type: ignore[attr-defined]
        registry_db: Database = PostgresDatabase(url, max_size=6)
        ledger_db: Database = PostgresDatabase(url, max_size=8)
    else:
        ledger_path = url.sibling_sqlite_path("messages")
        registry = Registry(env=app_env(url, url.sqlite_path, SQLiteRegistryRecorder))
        ledger = MessageLedger(env=app_env(url, ledger_path, SQLiteLedgerRecorder))
        registry_db = SqliteDatabase(url.sqlite_path)
        ledger_db = SqliteDatabase(ledger_path)
    return Store(url, registry, ledger, registry_db, ledger_db)
