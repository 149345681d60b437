"""Where signed checkpoints and the signing key live: SQL tables, and an operator's sink."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from application.signing import Signer
from infrastructure.sql import Database

CHECKPOINTS_TABLE = "ledger_checkpoints"
SIGNING_KEY_NAME = "signing_key"


class SqlCheckpointStore:
    """Checkpoints beside the ledger (its database), newest last."""

    def __init__(self, database: Database) -> None:
        self.database = database
        serial = "BIGSERIAL" if database.dialect == "postgres" else "INTEGER"
        with database.transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS_TABLE} (id {serial} PRIMARY KEY, "
                "taken_at TEXT NOT NULL, document TEXT NOT NULL)"
            )

    def add(self, document: dict[str, Any]) -> None:
        with self.database.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {CHECKPOINTS_TABLE} (taken_at, document) VALUES (%s, %s)",
                (document["taken_at"], json.dumps(document, sort_keys=True)),
            )

    def latest(self) -> dict[str, Any] | None:
        found = self.recent(1)
        return found[0] if found else None

    def recent(self, limit: int) -> list[dict[str, Any]]:
        rows = self.database.query(
            f"SELECT document FROM {CHECKPOINTS_TABLE} ORDER BY id DESC LIMIT %s", (limit,)
        )
        return [json.loads(row["document"]) for row in rows]


def load_signer(path: str | None, database: Database) -> Signer:
    """The node's signing key: from the PEM file `path` (made there at first start), or kept in
    the store (made at first start; several nodes on one database agree on one key)."""
    if path:
        file = Path(path)
        if not file.exists():
            signer = Signer.generate()
            # Owner-only from the start: the private key never exists readable by others.
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(signer.private_pem())
            return signer
        return Signer.from_pem(file.read_bytes())
    with database.transaction() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS node_signing_keys "
            "(name TEXT PRIMARY KEY, pem TEXT NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO node_signing_keys (name, pem) VALUES (%s, %s) "
            "ON CONFLICT (name) DO NOTHING",
            (SIGNING_KEY_NAME, Signer.generate().private_pem().decode()),
        )
        row = cursor.execute(
            "SELECT pem FROM node_signing_keys WHERE name = %s", (SIGNING_KEY_NAME,)
        ).fetchone()
    assert row is not None
    return Signer.from_pem(str(row["pem"]).encode())


def stored_public_key(database: Database) -> Any:
    """The public half of the key kept in the store (offline verify), None if there is none."""
    try:
        row = database.query_one(
            "SELECT pem FROM node_signing_keys WHERE name = %s", (SIGNING_KEY_NAME,)
        )
    except Exception:  # no such table: this store never held a key
        return None
    return Signer.from_pem(str(row["pem"]).encode()).public_key if row else None


class FileSink:
    """Appends each checkpoint as one JSON line (fsynced: the point is to outlive a crash)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send(self, document: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(document, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())


class HttpSink:
    """POSTs each checkpoint as JSON; any 2xx is a receipt."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, document: dict[str, Any]) -> None:
        response = httpx.post(self.url, json=document, timeout=self.timeout)
        response.raise_for_status()


def sink_for(target: str | None) -> FileSink | HttpSink | None:
    if not target:
        return None
    if target.startswith(("http://", "https://")):
        return HttpSink(target)
    return FileSink(target)
