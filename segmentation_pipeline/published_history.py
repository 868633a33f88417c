"""The published `segment_history`: carried over from the previous publication, slice by slice.

Every night adds one slice (one row per user) to the warehouse history, so rewriting the whole
published copy each night would grow with the history (27.5 s for 16 slices of 1M users). Instead
the new file starts as a copy of the published one, keeps `segment_history` and
`segment_history_slices` only, and rewrites just the slices that changed:

- a slice is kept when the warehouse still holds it under the same `slice_id` (a re-run or
  backfill of a date gives it a new id, see analytics/history.py) and its ids were pseudonymised
  with the current secret (`id_check`, the pseudonym of a fixed text);
- every other published slice is deleted, and every warehouse slice not kept is written.

A published file that cannot be reused (missing, with a WAL beside it, unreadable, or from a
version without `segment_history_slices` or with other columns) means a full rewrite.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

HISTORY = "segment_history"
SLICES = "segment_history_slices"
KEPT_TABLES = (HISTORY, SLICES)
ID_CHECK_TEXT = "segment_history id check"

PUBLISHED_HISTORY_SQL = "SELECT pseudonym(user_id) AS user_id, * EXCLUDE (user_id) FROM wh.history.segment_history"
SLICES_COLUMNS = """
    as_of_date DATE NOT NULL, users BIGINT NOT NULL, recorded_at TIMESTAMP, published_at TIMESTAMP WITH TIME ZONE,
    slice_id VARCHAR, id_check VARCHAR
"""


@dataclass(frozen=True)
class HistorySync:
    written: list[str]  # as-of dates (ISO) written by this publication
    carried: int  # slices copied unchanged from the previous publication


def discard(staged: Path) -> None:
    """Remove a staged publication file and its WAL (nothing readers see)."""
    for leftover in (staged, staged.with_name(staged.name + ".wal")):
        leftover.unlink(missing_ok=True)


def start_from_previous(target: Path, staged: Path) -> bool:
    """Copy the published file to `staged` with only its history tables; False (nothing staged) if unusable."""
    if not target.exists() or target.with_name(target.name + ".wal").exists():
        return False
    try:
        shutil.copyfile(target, staged)
        with duckdb.connect(str(staged)) as con:
            tables = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
            if not set(KEPT_TABLES) <= tables:
                raise LookupError("no slice list: published by an earlier version")
            for table in sorted(tables - set(KEPT_TABLES)):
                con.execute(f'DROP TABLE "{table}"')
            for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
                                       "AND NOT internal").fetchall():
                con.execute(f'DROP VIEW "{view}"')
            for name, kind in con.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
                                          "WHERE database_name = current_database() AND NOT internal").fetchall():
                con.execute(f'DROP MACRO {"TABLE " if kind == "table_macro" else ""}"{name}"')
            con.execute("CHECKPOINT")
    except (duckdb.Error, OSError, LookupError):
        discard(staged)
        return False
    return True


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> bool:
    """Whether `database.schema.table` exists (a table or a view)."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ? "
        "AND table_name = ?", [database, schema, table]).fetchone()[0])


def sync_history(con: duckdb.DuckDBPyConnection) -> HistorySync:
    """Bring the staged `segment_history` in line with `wh.history` (connection from publish._connect)."""
    main = con.execute("SELECT current_database()").fetchone()[0]
    wanted_columns = _columns(con, f"({PUBLISHED_HISTORY_SQL} LIMIT 0)")
    if has_table(con, main, "main", HISTORY) and _columns(con, HISTORY) != wanted_columns:
        con.execute(f"DROP TABLE {HISTORY}")
        con.execute(f"DROP TABLE IF EXISTS {SLICES}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {HISTORY} AS {PUBLISHED_HISTORY_SQL} LIMIT 0")
    con.execute(f"CREATE TABLE IF NOT EXISTS {SLICES} ({SLICES_COLUMNS})")

    if has_table(con, "wh", "history", "slices"):
        wanted = ("SELECT as_of_date, slice_id, recorded_at FROM wh.history.slices "
                  "WHERE table_name = 'history.segment_history'")
    else:  # no slice ids yet: every date is rewritten
        wanted = ("SELECT DISTINCT as_of_date, NULL::VARCHAR AS slice_id, NULL::TIMESTAMP AS recorded_at "
                  "FROM wh.history.segment_history")
    con.execute(f"CREATE TEMP TABLE wanted AS {wanted}")
    check = con.execute("SELECT pseudonym(?)", [ID_CHECK_TEXT]).fetchone()[0]
    stale = [r[0] for r in con.execute(
        f"SELECT s.as_of_date FROM {SLICES} AS s LEFT JOIN wanted AS w "
        "ON w.as_of_date = s.as_of_date AND w.slice_id = s.slice_id AND s.id_check = ? "
        "WHERE w.as_of_date IS NULL", [check]).fetchall()]
    if stale:
        con.execute(f"DELETE FROM {HISTORY} WHERE list_contains(?, as_of_date)", [stale])
        con.execute(f"DELETE FROM {SLICES} WHERE list_contains(?, as_of_date)", [stale])
    missing = [r[0] for r in con.execute(
        f"SELECT as_of_date FROM wanted WHERE as_of_date NOT IN (SELECT as_of_date FROM {SLICES}) ORDER BY 1"
    ).fetchall()]
    if missing:
        con.execute(f"INSERT INTO {HISTORY} {PUBLISHED_HISTORY_SQL} WHERE list_contains(?, as_of_date) "
                    "ORDER BY as_of_date, user_id", [missing])
        con.execute(f"""
            INSERT INTO {SLICES}
            SELECT w.as_of_date, coalesce(h.users, 0), w.recorded_at, now(), w.slice_id, ?
            FROM wanted AS w
            LEFT JOIN (SELECT as_of_date, count(*) AS users FROM {HISTORY} WHERE list_contains(?, as_of_date)
                       GROUP BY 1) AS h USING (as_of_date)
            WHERE list_contains(?, w.as_of_date)
        """, [check, missing, missing])
    carried = con.execute(f"SELECT count(*) FROM {SLICES}").fetchone()[0] - len(missing)
    con.execute("DROP TABLE wanted")
    return HistorySync(written=[d.isoformat() for d in missing], carried=int(carried))
