"""The as-of date: the "today" of the data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.manifest import MANIFEST

# The column whose latest value dates a table's activity.
ACTIVITY_COLUMNS = {"orders": "ordered_at", "events": "occurred_at"}


def file_latest_activity(con: duckdb.DuckDBPyConnection, table: str, file: str) -> datetime | None:
    """The latest readable activity timestamp among the rows of `file` in raw.<table> (None for other tables)."""
    column = ACTIVITY_COLUMNS.get(table)
    if column is None:
        return None
    return con.execute(
        f"SELECT max(try_cast({column} AS TIMESTAMP)) FROM raw.{table} WHERE _source_file = ?", [file]
    ).fetchone()[0]


def _latest_before(
    con: duckdb.DuckDBPyConnection, table: str, limit: datetime, file: str | None = None
) -> datetime | None:
    column = ACTIVITY_COLUMNS[table]
    where = "WHERE _source_file = ?" if file is not None else ""
    return con.execute(
        f"SELECT max(ts) FROM (SELECT try_cast({column} AS TIMESTAMP) AS ts FROM raw.{table} {where}) WHERE ts < ?",
        ([file] if file is not None else []) + [limit],
    ).fetchone()[0]


def _manifest_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, datetime | None]] | None:
    has_column = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = '_landing_files' AND column_name = 'latest_activity_at'"
    ).fetchone()[0]
    if not has_column:
        return None
    return con.execute(
        f"SELECT table_name, file, latest_activity_at FROM {MANIFEST} WHERE list_contains(?, table_name) "
        "ORDER BY table_name, file",
        [sorted(ACTIVITY_COLUMNS)],
    ).fetchall()


def latest_activity_date(con: duckdb.DuckDBPyConnection, now: datetime) -> date | None:
    """Date of the latest parseable order or event that is not in the future (before tomorrow).

    Each loaded file's latest timestamp is kept in the landing manifest, so a night reads only the
    rows of files whose latest timestamp is in the future (or unknown: a warehouse loaded before
    the manifest kept it), instead of parsing every order and event timestamp again.
    """
    limit = datetime.combine(now.date() + timedelta(days=1), time())
    rows = _manifest_rows(con)
    if rows is None:  # no manifest: raw tables written by other means
        latest = [_latest_before(con, table, limit) for table in ACTIVITY_COLUMNS]
    else:
        latest = [
            value if value is not None and value < limit else _latest_before(con, table, limit, file)
            for table, file, value in rows
        ]
    known = [value for value in latest if value is not None]
    return max(known).date() if known else None


def resolve_as_of(con: duckdb.DuckDBPyConnection, override: date | None, now: datetime) -> date:
    if override is not None:
        return override
    latest = latest_activity_date(con, now)
    if latest is None:
        raise IngestionError(
            "orders: no order or event has a parseable timestamp on or before today, so the as-of date "
            "cannot be inferred. Check the ordered_at/occurred_at columns (and their formats in "
            "segmentation.yaml), or set SEGMENTATION_AS_OF=YYYY-MM-DD."
        )
    return latest
