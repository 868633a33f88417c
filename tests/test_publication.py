"""Readers of the published file: never blocked, never see half a run; failures keep the last good file."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import duckdb

from conftest import run_segmentation_job

# A separate process, like an analyst's DuckDB session: one connection held open for the
# whole run, plus a fresh connection every few milliseconds.
READER = r"""
import json, sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
held = duckdb.connect(path, read_only=True)
snapshot = "SELECT count(*), min(as_of_date)::VARCHAR, count(DISTINCT published_at) FROM segment_labels"
seen, held_seen, errors = set(), set(), []
import os
while not os.path.exists(stop):
    try:
        held_seen.add(tuple(held.execute(snapshot).fetchone()))
        with duckdb.connect(path, read_only=True) as fresh:
            seen.add(tuple(fresh.execute(snapshot).fetchone()))
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.02)
print(json.dumps({"seen": sorted(seen), "held": sorted(held_seen), "errors": errors}))
"""


def _snapshot(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return tuple(
            con.execute(
                "SELECT count(*), min(as_of_date)::VARCHAR, count(DISTINCT published_at) FROM segment_labels"
            ).fetchone()
        )


def test_open_reader_during_a_run(workspace, copy_landing, monkeypatch):
    copy_landing()
    published = workspace / "segments.duckdb"
    monkeypatch.setenv("SEGMENTATION_AS_OF", "2026-05-31")
    assert run_segmentation_job().success
    before = _snapshot(published)

    stop = workspace / "stop-reader"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), str(stop)], stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    monkeypatch.setenv("SEGMENTATION_AS_OF", "2026-06-30")
    result = run_segmentation_job()
    time.sleep(0.5)
    stop.touch()
    report = json.loads(reader.communicate(timeout=60)[0])
    after = _snapshot(published)

    assert result.success
    assert report["errors"] == []
    assert before != after and before[1] == "2026-05-31" and after[1] == "2026-06-30"
    assert [tuple(s) for s in report["held"]] == [before]  # the open session keeps its snapshot
    assert {tuple(s) for s in report["seen"]} <= {before, after}  # never a half-written file
    assert tuple(report["seen"][-1]) in {before, after}


def test_failed_run_leaves_published_file_byte_for_byte(workspace, copy_landing):
    landing = copy_landing()
    assert run_segmentation_job().success
    published = workspace / "segments.duckdb"
    good = published.read_bytes()

    duckdb.sql(
        f"COPY (SELECT * EXCLUDE (amount) FROM read_csv('{landing / 'orders.csv'}')) TO '{landing / 'broken.csv'}' (HEADER)"
    )
    (landing / "broken.csv").replace(landing / "orders.csv")
    result = run_segmentation_job()

    assert not result.success
    assert published.read_bytes() == good
    assert not [p.name for p in workspace.iterdir() if p.name.endswith(".tmp")]


def test_missing_orders_file_is_a_clear_failure(workspace, copy_landing):
    copy_landing("events", "users")
    result = run_segmentation_job()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "orders.csv" in message and "required file missing" in message
    assert not (workspace / "segments.duckdb").exists()
