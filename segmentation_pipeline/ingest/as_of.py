"""The as-of date: the "today" of the data."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from segmentation_pipeline.ingest.errors import IngestionError


def latest_activity_date(con: duckdb.DuckDBPyConnection, now: datetime) -> date | None:
    """Date of the latest parseable order or event that is not in the future."""
    limit = (now.date() + timedelta(days=1)).isoformat()
    row = con.execute(
        f"""
        SELECT max(ts)::DATE FROM (
            SELECT try_cast(ordered_at AS TIMESTAMP) AS ts FROM raw.orders
            UNION ALL
            SELECT try_cast(occurred_at AS TIMESTAMP) FROM raw.events
        ) WHERE ts < TIMESTAMP '{limit}'
        """
    ).fetchone()
    return row[0]


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
