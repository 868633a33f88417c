"""Ingestion loads files one at a time: per-file row numbers, and a nightly run reads only new or
changed files while leaving `raw.<table>` exactly as a full reload would.

Real DuckDB, real files, the pipeline's own `ingest_table`.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from segmentation_pipeline.ingest import load
from segmentation_pipeline.ingest.errors import IngestionError
from segmentation_pipeline.ingest.run import ingest_table
from segmentation_pipeline.settings import load_settings

HEADER = "event_id,user_id,event_type,occurred_at,session_id\n"


def _events(first: int, count: int, day: str = "2026-06-01") -> str:
    return HEADER + "".join(f"e{i},u{i % 3},page_view,{day} 10:00:{i % 60:02d},s{i}\n" for i in range(first, first + count))


def _settings(root: Path, warehouse: str = "warehouse.duckdb", config: str = ""):
    (root / "segmentation.yaml").write_text(config)
    return load_settings({
        "SEGMENTATION_DATA_DIR": str(root / "landing"),
        "SEGMENTATION_WAREHOUSE": str(root / warehouse),
        "SEGMENTATION_CONFIG": str(root / "segmentation.yaml"),
    })


def _raw(settings, table: str = "events") -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(f"SELECT * FROM raw.{table} ORDER BY _source_file, _source_row").fetchall()


def _write(path: Path, text: str, mtime: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, ns=(mtime, mtime))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "events"
    _write(folder / "part-1.csv", _events(0, 5), mtime=1_700_000_000_000_000_000)
    _write(folder / "part-2.csv", _events(5, 4), mtime=1_700_000_000_000_000_000)
    return tmp_path


def test_row_numbers_count_within_each_file(shop):
    settings = _settings(shop)
    report = ingest_table(settings, "events")
    rows = _raw(settings)
    assert report.rows == 9 and report.files_loaded == ["events/part-1.csv", "events/part-2.csv"]
    by_file = {}
    for row in rows:
        by_file.setdefault(row[-2], []).append((row[0], row[-1]))
    # The second file's first data row is its row 1, not row 6 of the table.
    assert by_file["events/part-2.csv"] == [("e5", 1), ("e6", 2), ("e7", 3), ("e8", 4)]
    assert by_file["events/part-1.csv"][0] == ("e0", 1)


def test_row_numbers_follow_the_file_when_it_is_read_in_parallel_chunks(tmp_path, monkeypatch):
    """A large file is parsed in parallel chunks and streamed in several batches: row n is still row n."""
    monkeypatch.setattr(load, "BATCH_ROWS", 7_777)
    folder = tmp_path / "landing" / "events"
    _write(folder / "part-1.csv", _events(0, 120_000))
    _write(folder / "part-2.csv", _events(0, 50_000, day="2026-06-02"))
    # 64 KB read buffers: the 5 MB file is split into many chunks that both threads parse.
    settings = _settings(tmp_path, config="engine: {threads: 2}\nevents: {read_options: {buffer_size: 65536}}\n")
    assert ingest_table(settings, "events").rows == 170_000
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        wrong = con.execute("""
            SELECT _source_file, count(*) FROM raw.events
            WHERE _source_row <> CAST(substr(event_id, 2) AS BIGINT) + 1 GROUP BY 1
        """).fetchall()
        numbered = con.execute("SELECT _source_file, max(_source_row) FROM raw.events GROUP BY 1 ORDER BY 1").fetchall()
    assert wrong == []
    assert numbered == [("events/part-1.csv", 120_000), ("events/part-2.csv", 50_000)]


def test_a_broken_line_deep_in_a_new_file_names_it_and_keeps_raw_as_it_was(shop, monkeypatch):
    monkeypatch.setattr(load, "BATCH_ROWS", 1_000)
    settings = _settings(shop)
    ingest_table(settings, "events")
    before = _raw(settings)
    lines = _events(100, 40_000).splitlines()
    lines[35_001] = 'e35100,"u1,page_view,2026-06-01 10:00:00,s1,x'  # unterminated quote, past the sniffed rows
    _write(shop / "landing" / "events" / "part-3.csv", "\n".join(lines) + "\n")
    with pytest.raises(IngestionError, match=r"events/part-3\.csv: could not load table 'events': .*CSV Error on Line"):
        ingest_table(settings, "events")
    assert _raw(settings) == before


def test_nightly_run_reads_only_new_and_changed_files_and_matches_a_full_reload(shop):
    settings = _settings(shop)
    ingest_table(settings, "events")

    again = ingest_table(settings, "events")
    assert again.files_loaded == [] and again.files_reused == ["events/part-1.csv", "events/part-2.csv"]
    assert again.rows == 9

    folder = shop / "landing" / "events"
    _write(folder / "part-3.csv", _events(9, 2, day="2026-06-02"))  # a new day's delivery
    _write(folder / "part-2.csv", _events(5, 3) + "e5,u9,purchase,2026-06-01 11:00:00,s5\n")  # re-exported
    (folder / "part-1.csv").unlink()  # withdrawn
    nightly = ingest_table(settings, "events")
    assert nightly.files_loaded == ["events/part-2.csv", "events/part-3.csv"]
    assert nightly.files_reused == []
    assert nightly.rows == 6

    full = _settings(shop, warehouse="fresh.duckdb")
    ingest_table(full, "events")
    assert _raw(settings) == _raw(full)
    assert [r[0] for r in _raw(settings)] == ["e5", "e6", "e7", "e5", "e9", "e10"]


def test_a_changed_table_config_reloads_every_file(shop):
    settings = _settings(shop)
    ingest_table(settings, "events")
    remapped = _settings(shop, config="events: {columns: {session_id: missing_column}}\n")
    report = ingest_table(remapped, "events")
    assert report.files_reused == [] and len(report.files_loaded) == 2
    assert {row[4] for row in _raw(remapped)} == {None}  # session_id now maps to a column no file has
    assert report.missing_optional_columns == ["session_id", "product_id", "category", "duration_seconds"]


def test_a_bad_new_file_leaves_the_loaded_table_as_it_was(shop):
    settings = _settings(shop)
    ingest_table(settings, "events")
    before = _raw(settings)
    bad = shop / "landing" / "events" / "part-3.csv"
    _write(bad, "event_id,user_id,occurred_at\ne20,u1,2026-06-02 10:00:00\n")
    with pytest.raises(IngestionError, match=r"events/part-3.csv: required column\(s\) 'event_type' missing"):
        ingest_table(settings, "events")
    _write(bad, HEADER + "e21,u1,page_view,not a date,s1\n")
    with pytest.raises(IngestionError, match=r"events/part-3.csv: column 'occurred_at' .* cannot be read as a date"):
        ingest_table(settings, "events")
    assert _raw(settings) == before
    bad.unlink()
    assert ingest_table(settings, "events").files_reused == ["events/part-1.csv", "events/part-2.csv"]
