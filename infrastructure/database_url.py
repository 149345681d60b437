"""Parsing of OCPI_LEDGER_DATABASE_URL into what each store needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseUrlError(ValueError):
    pass


@dataclass(frozen=True)
class DatabaseUrl:
    kind: str  # "sqlite" | "postgres"
    sqlite_path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgres"

    def sibling_sqlite_path(self, suffix: str) -> str:
        """Where a second SQLite file beside the main one lives (e.g. the message log)."""
        if self.sqlite_path == ":memory:":
            return ":memory:"
        path = Path(self.sqlite_path)
        return str(path.with_name(f"{path.stem}.{suffix}{path.suffix or '.db'}"))

    def conninfo(self) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={self.dbname}"]
        if self.user:
            parts.append(f"user={self.user}")
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def redacted(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{self.dbname}?schema={self.schema}"

    def with_schema(self, schema: str) -> DatabaseUrl:
        return DatabaseUrl(**{**self.__dict__, "schema": schema})


def parse_database_url(url: str) -> DatabaseUrl:
    """Accepts `sqlite:///PATH` and `postgresql://user[:pw]@host[:port]/db[?schema=NAME]`."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise DatabaseUrlError("sqlite URL needs a file path: sqlite:///PATH")
        return DatabaseUrl(kind="sqlite", sqlite_path=path)
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise DatabaseUrlError(
            f"unsupported database URL scheme {parts.scheme!r}: use sqlite:///PATH or "
            "postgresql://user[:pw]@host:port/db"
        )
    dbname = parts.path.lstrip("/")
    if not parts.hostname or not dbname:
        raise DatabaseUrlError(
            "postgresql URL needs a host and a database: postgresql://user@host:port/db"
        )
    try:
        port = parts.port or 5432
    except ValueError as error:
        raise DatabaseUrlError(f"invalid port in database URL: {error}") from None
    schema = parse_qs(parts.query).get("schema", ["public"])[0]
    if not _IDENTIFIER.match(schema):
        raise DatabaseUrlError(f"invalid schema name {schema!r}: lower-case letters, digits, _")
    return DatabaseUrl(
        kind="postgres",
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        dbname=dbname,
        schema=schema,
    )
