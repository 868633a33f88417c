"""The landing gates validate only what is new: GX re-validates a file only when it is new or
reloaded, or when the suite or the quality settings changed (`raw._validated_files`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from conftest import run_segmentation_job
from segmentation_pipeline.ingest.run import ingest_table
from segmentation_pipeline.quality.context import EXPECTATIONS_DIR
from segmentation_pipeline.quality.ledger import files_to_validate, record_passed, suite_signature
from segmentation_pipeline.settings import load_settings

SUITE = EXPECTATIONS_DIR / "expectations" / "landing_orders.json"
PARAMETERS = {"amount_ceiling": 100000, "allowed_event_types": ["view"], "latest_allowed_timestamp": "2026-06-01"}
HEADER = "order_id,user_id,ordered_at,amount,status\n"


def _orders(first: int, count: int) -> str:
    return HEADER + "".join(f"o{i},u{i},2026-05-01 10:00:00,12.5,completed\n" for i in range(first, first + count))


def test_only_new_or_reloaded_files_and_every_file_after_a_settings_change(tmp_path: Path):
    (tmp_path / "landing" / "orders").mkdir(parents=True)
    (tmp_path / "landing" / "orders" / "day-1.csv").write_text(_orders(0, 3))
    (tmp_path / "segmentation.yaml").write_text("")
    settings = load_settings({"SEGMENTATION_DATA_DIR": str(tmp_path / "landing"),
                              "SEGMENTATION_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
                              "SEGMENTATION_CONFIG": str(tmp_path / "segmentation.yaml")})
    signature = suite_signature(SUITE, PARAMETERS, 0.99)
    # The run's clock does not matter; the ceiling, the tolerance and the suite do.
    assert suite_signature(SUITE, {**PARAMETERS, "latest_allowed_timestamp": "2026-06-02"}, 0.99) == signature
    assert suite_signature(SUITE, {**PARAMETERS, "amount_ceiling": 500}, 0.99) != signature
    assert suite_signature(SUITE, PARAMETERS, 0.95) != signature

    ingest_table(settings, "orders")
    with duckdb.connect(str(settings.warehouse)) as con:
        assert files_to_validate(con, "orders", signature) == ["orders/day-1.csv"]
        record_passed(con, "orders", ["orders/day-1.csv"], signature)
        assert files_to_validate(con, "orders", signature) == []
        assert files_to_validate(con, "orders", suite_signature(SUITE, PARAMETERS, 0.95)) == ["orders/day-1.csv"]
        assert files_to_validate(con, "events", signature) is None  # no file of the table: validate the table

    (tmp_path / "landing" / "orders" / "day-2.csv").write_text(_orders(3, 2))
    ingest_table(settings, "orders")
    with duckdb.connect(str(settings.warehouse)) as con:
        assert files_to_validate(con, "orders", signature) == ["orders/day-2.csv"]
        record_passed(con, "orders", ["orders/day-2.csv"], signature)

    (tmp_path / "landing" / "orders" / "day-1.csv").write_text(_orders(0, 4))  # a corrected re-delivery
    ingest_table(settings, "orders")
    with duckdb.connect(str(settings.warehouse)) as con:
        assert files_to_validate(con, "orders", signature) == ["orders/day-1.csv"]


def _landing_check(result, table: str):
    return next(c for c in result.get_asset_check_evaluations() if c.check_name == f"landing_{table}_quality")


def test_a_nightly_run_validates_the_new_delivery_only(workspace, copy_landing):
    landing = copy_landing()
    (landing / "orders").mkdir()
    shutil.move(landing / "orders.csv", landing / "orders" / "history.csv")  # deliveries as one file per day
    first = run_segmentation_job()
    assert first.success
    assert _landing_check(first, "orders").metadata["files_validated"].value == 1
    assert _landing_check(first, "orders").metadata["rows_validated"].value > 1000

    # The next night: one more orders file arrives, the other tables are unchanged.
    (landing / "orders" / "2026-07-01.csv").write_text(
        HEADER + "".join(f"n{i},u{i},2026-06-30 09:00:00,20,completed\n" for i in range(25))
    )
    second = run_segmentation_job()
    assert second.success
    orders = _landing_check(second, "orders")
    assert orders.passed
    assert orders.metadata["files_validated"].value == 1
    assert orders.metadata["rows_validated"].value == 25
    for table in ("events", "users", "order_items", "reviews"):
        check = _landing_check(second, table)
        assert check.passed and check.metadata["rows_validated"].value == 0, table
