"""Dropping a PostgreSQL schema a throw-away node (demo, test) used."""

from __future__ import annotations

import psycopg
from psycopg import sql

from infrastructure.database_url import DatabaseUrl


def drop_schema(url: DatabaseUrl) -> None:
    if not url.is_postgres:
        return
    with psycopg.connect(url.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(url.schema)))
