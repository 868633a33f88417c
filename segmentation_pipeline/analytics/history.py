"""`history.*` in the warehouse: one slice per as-of date, replaced when that date is run again.

The warehouse keeps the history (raw user ids). `history.slices` gives every slice written a new
`slice_id`, so a publication rewrites only the slices whose id changed (published_history.py).
"""

from __future__ import annotations

from datetime import date

import duckdb

HISTORY_COLUMNS = """
    user_id VARCHAR NOT NULL, as_of_date DATE NOT NULL, segment_id INTEGER, segment_name VARCHAR,
    rfm_segment VARCHAR, lifecycle_stage VARCHAR, value_tier VARCHAR, churn_probability DOUBLE,
    model_version VARCHAR
"""

# The current run's membership: what segment_labels publishes, per user.
CURRENT_MEMBERSHIP_SQL = """
SELECT rfm.user_id, rfm.as_of_date, seg.segment_id, seg.segment_name, rfm.rfm_segment, rfm.lifecycle_stage,
       seg.value_tier, round(churn.churn_probability, 4) AS churn_probability, seg.model_version
FROM marts.user_rfm_segments AS rfm
JOIN ml.user_segments AS seg USING (user_id)
LEFT JOIN ml.churn_scores AS churn USING (user_id)
"""


SLICES_COLUMNS = "table_name VARCHAR NOT NULL, as_of_date DATE NOT NULL, slice_id VARCHAR NOT NULL, " \
    "row_count BIGINT, recorded_at TIMESTAMP"


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema || '.' || table_name = ?", [table]
    ).fetchone()[0])


def ensure_slices(con: duckdb.DuckDBPyConnection) -> None:
    """Create `history.slices`; a history written before it existed gets an id for each of its dates."""
    con.execute("CREATE SCHEMA IF NOT EXISTS history")
    if _has_table(con, "history.slices"):
        return
    con.execute(f"CREATE TABLE history.slices ({SLICES_COLUMNS})")
    if _has_table(con, "history.segment_history"):
        con.execute("""
            INSERT INTO history.slices
            SELECT 'history.segment_history', as_of_date, uuid()::VARCHAR, count(*), now()::TIMESTAMP
            FROM history.segment_history GROUP BY as_of_date
        """)


def ensure_history(con: duckdb.DuckDBPyConnection) -> None:
    ensure_slices(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS history.segment_history ({HISTORY_COLUMNS})")


def replace_slice(con: duckdb.DuckDBPyConnection, table: str, as_of: date, select_sql: str) -> int:
    """Delete `table`'s rows for `as_of` and insert `select_sql` in one transaction; returns rows written.

    The table is created from the first slice if it does not exist yet. The slice gets a new id in
    `history.slices`, even when its rows did not change.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_slices(con)
        if _has_table(con, table):
            con.execute(f"DELETE FROM {table} WHERE as_of_date = ?", [as_of])
            con.execute(f"INSERT INTO {table} BY NAME {select_sql}")
        else:
            con.execute(f"CREATE TABLE {table} AS {select_sql}")
        rows = con.execute(f"SELECT count(*) FROM {table} WHERE as_of_date = ?", [as_of]).fetchone()[0]
        con.execute("DELETE FROM history.slices WHERE table_name = ? AND as_of_date = ?", [table, as_of])
        con.execute("INSERT INTO history.slices VALUES (?, ?, uuid()::VARCHAR, ?, now()::TIMESTAMP)",
                    [table, as_of, rows])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows


def record_membership(con: duckdb.DuckDBPyConnection, as_of: date, select_sql: str = CURRENT_MEMBERSHIP_SQL) -> int:
    ensure_history(con)
    return replace_slice(con, "history.segment_history", as_of, f"SELECT * FROM ({select_sql}) WHERE as_of_date = DATE '{as_of}'")
