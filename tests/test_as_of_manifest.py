"""The as-of date comes from each file's latest timestamp, kept in the landing manifest, and equals
the date a scan of every raw order and event gives: with future rows, unreadable values, files
added later, and a warehouse whose manifest predates the column.

Real files, real DuckDB, the pipeline's own `ingest_table`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from segmentation_pipeline.ingest import as_of
from segmentation_pipeline.ingest.run import ingest_table
from segmentation_pipeline.settings import load_settings

NOW = datetime(2026, 6, 10, 12, 0)
ORDERS = "order_id,user_id,ordered_at,amount,status\n"
EVENTS = "event_id,user_id,event_type,occurred_at,session_id\n"


def _settings(root: Path):
    (root / "segmentation.yaml").write_text("")
    return load_settings({
        "SEGMENTATION_DATA_DIR": str(root / "landing"),
        "SEGMENTATION_WAREHOUSE": str(root / "warehouse.duckdb"),
        "SEGMENTATION_CONFIG": str(root / "segmentation.yaml"),
    })


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _scan_everything(con: duckdb.DuckDBPyConnection) -> date | None:
    """The rule without the manifest: every timestamp of every order and event, parsed again."""
    return con.execute("""
        SELECT max(ts)::DATE FROM (
            SELECT try_cast(ordered_at AS TIMESTAMP) AS ts FROM raw.orders
            UNION ALL SELECT try_cast(occurred_at AS TIMESTAMP) FROM raw.events
        ) WHERE ts < TIMESTAMP '2026-06-11'
    """).fetchone()[0]


def _ingest(settings) -> None:
    for table in ("orders", "events"):
        ingest_table(settings, table)


def test_as_of_from_the_manifest_equals_a_scan_of_every_row(tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "orders.csv", ORDERS + "o1,u1,2026-06-03 09:00:00,5,completed\no2,u1,not a date,5,completed\n")
    # One file whose latest row is in the future (a clock error upstream): its rows are read again.
    _write(landing / "events" / "part-1.csv", EVENTS + "e1,u1,page_view,2026-06-07 10:00:00,s1\n"
           "e2,u1,page_view,2999-01-01 00:00:00,s1\n")
    _write(landing / "events" / "part-2.csv", EVENTS + "e3,u2,page_view,2026-06-05 10:00:00,s2\n")
    settings = _settings(tmp_path)
    _ingest(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        kept = dict(con.execute(
            "SELECT file, latest_activity_at FROM raw._landing_files WHERE table_name IN ('orders', 'events')"
        ).fetchall())
        assert kept == {
            "orders.csv": datetime(2026, 6, 3, 9), "events/part-1.csv": datetime(2999, 1, 1),
            "events/part-2.csv": datetime(2026, 6, 5, 10),
        }
        assert as_of.latest_activity_date(con, NOW) == _scan_everything(con) == date(2026, 6, 7)

    # A night adds a day of events: only the new file is read at ingestion.
    _write(landing / "events" / "part-3.csv", EVENTS + "e4,u2,page_view,2026-06-10 23:59:00,s3\n")
    _ingest(settings)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert as_of.latest_activity_date(con, NOW) == _scan_everything(con) == date(2026, 6, 10)
        # The next day's clock: the future row is still future, tomorrow's row is not yet there.
        assert as_of.latest_activity_date(con, datetime(2026, 6, 9)) == date(2026, 6, 7)


def test_a_manifest_from_before_the_column_still_gives_the_right_date(tmp_path):
    landing = tmp_path / "landing"
    _write(landing / "orders.csv", ORDERS + "o1,u1,2026-06-03 09:00:00,5,completed\n")
    _write(landing / "events" / "part-1.csv", EVENTS + "e1,u1,page_view,2026-06-08 10:00:00,s1\n")
    settings = _settings(tmp_path)
    _ingest(settings)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("UPDATE raw._landing_files SET latest_activity_at = NULL")  # as after the upgrade
        assert as_of.latest_activity_date(con, NOW) == date(2026, 6, 8)
        con.execute("ALTER TABLE raw._landing_files DROP COLUMN latest_activity_at")  # before it
        assert as_of.latest_activity_date(con, NOW) == date(2026, 6, 8)
