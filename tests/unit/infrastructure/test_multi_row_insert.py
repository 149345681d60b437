"""multi_row: one INSERT of many rows for PostgreSQL instead of a statement per row."""

from infrastructure.sql import multi_row


def test_an_insert_of_one_row_becomes_an_insert_of_many() -> None:
    sql = "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
    assert multi_row(sql, 2, 3) == (
        "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) "
        "ON CONFLICT (a) DO UPDATE SET b = excluded.b"
    )


def test_statements_it_cannot_widen_safely_are_left_alone() -> None:
    assert multi_row("DELETE FROM t WHERE id = %s", 1, 2) is None
    assert multi_row("INSERT INTO t (a) SELECT %s", 1, 2) is None
    # Placeholders outside the row (here in the conflict clause) would be repeated wrongly.
    assert multi_row("INSERT INTO t (a) VALUES (%s) ON CONFLICT DO UPDATE SET a = %s", 2, 2) is None
    assert multi_row("INSERT INTO t (a, b) VALUES (%s, %s)", 3, 2) is None
    # A literal percent sign would need psycopg's unescaping, which numbered placeholders skip.
    assert multi_row("INSERT INTO t (a, b) VALUES (%s, '100%%')", 1, 2) is None
