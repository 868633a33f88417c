"""Row-level problems are quarantined with a reason and the file name; the run still publishes."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from conftest import DEMO_AS_OF, run_segmentation_job
from quality_fixtures import set_cell

# (table, reason, column the problem is in); one corrupted fixture row per case.
CASES = {
    "blank_user_id": ("orders", "missing_user_id", "user_id"),
    "negative_amount": ("orders", "negative_amount", "amount"),
    "non_numeric_amount": ("orders", "non_numeric_amount", "amount"),
    "unparseable_timestamp": ("orders", "unparseable_timestamp", "ordered_at"),
    "future_timestamp": ("orders", "future_timestamp", "ordered_at"),
    "unknown_event_type": ("events", "unknown_event_type", "event_type"),
    "duplicate_id_conflict": ("orders", "duplicate_id_conflict", "order_id"),
}


@pytest.fixture(scope="module")
def corrupted_run(tmp_path_factory, demo_landing):
    root = tmp_path_factory.mktemp("row_level")
    landing = root / "landing"
    shutil.copytree(demo_landing, landing)
    orders = landing / "orders.csv"
    set_cell(orders, 10, "user_id", "   ")
    set_cell(orders, 20, "amount", "-12.50")
    set_cell(orders, 30, "amount", "twelve")
    set_cell(orders, 40, "ordered_at", "31/02/2026 noon")
    set_cell(orders, 50, "ordered_at", "2999-01-01 10:00:00")
    # Order 60 delivered again later with another amount; rows 1-5 delivered twice, unchanged.
    (landing / "orders").mkdir()
    orders.rename(landing / "orders" / "orders_2026-06-29.csv")
    first = landing / "orders" / "orders_2026-06-29.csv"
    duckdb.sql(
        f"""COPY (
            SELECT * EXCLUDE (n) REPLACE (CASE WHEN n = 60 THEN '999.99' ELSE amount END AS amount) FROM (
                SELECT row_number() OVER () AS n, * FROM read_csv('{first}', all_varchar = true)) WHERE n IN (1, 2, 3, 4, 5, 60)
        ) TO '{landing / "orders" / "orders_2026-06-30.csv"}' (HEADER)"""
    )
    set_cell(next((landing / "events").glob("*.csv")), 7, "event_type", "teleport")

    env = {
        "SEGMENTATION_DATA_DIR": str(landing),
        "SEGMENTATION_WAREHOUSE": str(root / "warehouse.duckdb"),
        "SEGMENTATION_PUBLISHED_DB": str(root / "segments.duckdb"),
        "SEGMENTATION_CONFIG": str(root / "segmentation.yaml"),
    }
    (root / "segmentation.yaml").write_text("clustering: {k_min: 2, k_max: 6, seed: 42}\n")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("SEGMENTATION_AS_OF", raising=False)
        result = run_segmentation_job()
    with duckdb.connect(env["SEGMENTATION_WAREHOUSE"], read_only=True) as con:
        quarantine = {
            table: con.execute(
                f"SELECT quarantine_reason, _source_file, count(*) FROM quarantine.quarantine_shop__{table} GROUP BY ALL"
            ).fetchall()
            for table in ("orders", "events")
        }
        counts = {r[0]: r[1:] for r in con.execute(
            "SELECT table_name, exact_duplicate_rows, quarantined_rows FROM quarantine.dq_table_counts"
        ).fetchall()}
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    return result, quarantine, counts, checks, root


def test_small_share_of_bad_rows_still_publishes(corrupted_run):
    result, _, _, checks, root = corrupted_run
    assert result.success
    assert checks["landing_orders_quality"].passed and checks["landing_events_quality"].passed
    assert (root / "segments.duckdb").exists()


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_quarantined_with_reason_and_file(corrupted_run, case):
    _, quarantine, _, checks, _ = corrupted_run
    table, reason, column = CASES[case]
    rows = [(file, n) for r, file, n in quarantine[table] if r == reason]
    assert len(rows) == 1 and rows[0][1] == 1, quarantine[table]
    assert rows[0][0].endswith(".csv")
    check = checks[f"landing_{table}_quality"]
    assert reason in check.description
    assert f"column '{column}'" in check.description


def test_exact_duplicates_removed_silently_but_counted(corrupted_run):
    _, quarantine, counts, checks, _ = corrupted_run
    assert counts["orders"][0] == 5  # rows 1-5 delivered twice, unchanged
    assert counts["orders"][1] == 6  # the six problems above
    assert checks["landing_orders_quality"].metadata["exact_duplicate_rows_removed"].value == 5
    assert not [r for r in quarantine["orders"] if r[0] == "exact_duplicate"]


def test_as_of_is_not_moved_by_a_future_row(corrupted_run):
    root = corrupted_run[4]
    with duckdb.connect(str(root / "segments.duckdb"), read_only=True) as con:
        assert con.execute("SELECT DISTINCT as_of_date::VARCHAR FROM segment_labels").fetchall() == [(DEMO_AS_OF,)]
