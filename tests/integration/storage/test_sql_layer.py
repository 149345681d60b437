"""The read models' SQL layer writes many rows at once the same way on both stores."""

from infrastructure.store import Store


def test_executemany_writes_every_row_also_past_one_statements_parameter_limit(
    store: Store,
) -> None:
    database = store.ledger_db
    with database.transaction() as cursor:
        cursor.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT)")
    rows = [(n, f"a{n}", n * 2, None) for n in range(12_000)]  # 48,000 parameters
    with database.transaction() as cursor:
        cursor.executemany("INSERT INTO wide (id, a, b, c) VALUES (%s, %s, %s, %s)", rows)
        cursor.executemany(
            "INSERT INTO wide (id, a, b, c) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET a = excluded.a",
            [(7, "seven", 0, "x"), (12_000, "new", 1, None)],
        )
    assert database.query("SELECT count(*) AS n FROM wide") == [{"n": 12_001}]
    assert database.query("SELECT a, b, c FROM wide WHERE id = 7") == [
        {"a": "seven", "b": 14, "c": None}
    ]
    assert database.query("SELECT a, b FROM wide WHERE id = 11999") == [
        {"a": "a11999", "b": 23_998}
    ]
