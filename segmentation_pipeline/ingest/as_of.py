"""The as-of date: the "today" of the data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.manifest import MANIFEST

# The column whose latest value dates a table's activity.
ACTIVITY_COLUMNS = {"orders": "ordered_at", "events": "occurred_at"}


def _latest(
    con: duckdb.DuckDBPyConnection, table: str, files: list[str] | None = None, before: datetime | None = None
) -> datetime | None:
    """The latest readable activity timestamp in raw.<table> (only `files`' rows, only before `before`)."""
    rows = f"WHERE _source_file IN ({', '.join('?' * len(files))})" if files is not None else ""  # prunable scan
    later = "WHERE ts < ?" if before is not None else ""
    return con.execute(
        f"SELECT max(ts) FROM (SELECT try_cast({ACTIVITY_COLUMNS[table]} AS TIMESTAMP) AS ts FROM raw.{table} {rows}) "
        f"{later}",
        [*(files or []), *([before] if before is not None else [])],
    ).fetchone()[0]


def file_latest_activity(con: duckdb.DuckDBPyConnection, table: str, file: str) -> datetime | None:
    """The latest readable activity timestamp among the rows of `file` in raw.<table> (None for other tables)."""
    return _latest(con, table, files=[file]) if table in ACTIVITY_COLUMNS else None


def _recorded(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, datetime | None]]] | None:
    """{table: [(file, latest_activity_at)]} from the landing manifest; None without the column."""
    has_column = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = '_landing_files' AND column_name = 'latest_activity_at'"
    ).fetchone()[0]
    if not has_column:
        return None
    rows = con.execute(
        f"SELECT table_name, file, latest_activity_at FROM {MANIFEST} WHERE list_contains(?, table_name)",
        [sorted(ACTIVITY_COLUMNS)],
    ).fetchall()
    return {table: [(file, value) for name, file, value in rows if name == table] for table in ACTIVITY_COLUMNS}


def latest_activity_date(con: duckdb.DuckDBPyConnection, now: datetime) -> date | None:
    """Date of the latest parseable order or event that is not in the future (before tomorrow).

    Each loaded file's latest timestamp is kept in the landing manifest, so a night reads only the
    rows of files whose latest timestamp is in the future (or unknown: a warehouse loaded before
    the manifest kept it), instead of parsing every order and event timestamp again.
    """
    limit = datetime.combine(now.date() + timedelta(days=1), time())
    recorded = _recorded(con)
    latest = []
    for table in ACTIVITY_COLUMNS:
        if recorded is None:  # no manifest: raw tables written by other means
            latest.append(_latest(con, table, before=limit))
            continue
        latest += [value for _, value in recorded[table] if value is not None and value < limit]
        unread = [file for file, value in recorded[table] if value is None or value >= limit]
        if unread:
            latest.append(_latest(con, table, files=unread, before=limit))
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
