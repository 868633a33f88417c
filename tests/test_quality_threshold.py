"""The quarantine threshold: 0.5% bad rows pass and publish, 5% stop the run before publishing."""

from __future__ import annotations

import shutil

import duckdb

from conftest import run_segmentation_job
from quality_fixtures import negative_amounts


def test_half_a_percent_of_bad_rows_is_quarantined_and_published(workspace, copy_landing):
    landing = copy_landing()
    bad = negative_amounts(landing / "orders.csv", 0.005)

    result = run_segmentation_job()

    assert result.success
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        quarantined = con.execute(
            "SELECT count(*) FROM quarantine.quarantine_shop__orders WHERE quarantine_reason = 'negative_amount'"
        ).fetchone()[0]
    assert quarantined == bad > 0
    assert (workspace / "segments.duckdb").exists()


def test_five_percent_of_bad_rows_stops_the_run(workspace, copy_landing, demo_landing):
    copy_landing()
    assert run_segmentation_job().success
    published = workspace / "segments.duckdb"
    before = published.read_bytes()
    shutil.copy(demo_landing / "orders.csv", workspace / "landing" / "orders.csv")
    negative_amounts(workspace / "landing" / "orders.csv", 0.05)

    result = run_segmentation_job()

    assert not result.success
    gate = {c.check_name: c for c in result.get_asset_check_evaluations()}["landing_orders_quality"]
    assert not gate.passed
    assert "negative_amount" in gate.description and "amount" in gate.metadata["expectations"].value
    assert gate.metadata["data_docs"].value.endswith("index.html")
    skipped = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "segment_labels" not in skipped and "user_segments" not in skipped
    assert published.read_bytes() == before
