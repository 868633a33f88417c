"""File-level problems fail ingestion with one clear message; the published file stays as it was."""

from __future__ import annotations

import shutil

import pytest

from conftest import run_segmentation_job
from quality_fixtures import rewrite_csv


@pytest.fixture(scope="module")
def published_before(tmp_path_factory, demo_landing):
    """A file published by a good run, to be left untouched by the failing runs below."""
    root = tmp_path_factory.mktemp("published")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGMENTATION_DATA_DIR", str(demo_landing))
        mp.setenv("SEGMENTATION_WAREHOUSE", str(root / "warehouse.duckdb"))
        mp.setenv("SEGMENTATION_PUBLISHED_DB", str(root / "segments.duckdb"))
        mp.setenv("SEGMENTATION_CONFIG", str(root / "none.yaml"))
        (root / "none.yaml").write_text("clustering: {k_min: 2, k_max: 4}\n")
        mp.delenv("SEGMENTATION_AS_OF", raising=False)
        assert run_segmentation_job().success
    return root / "segments.duckdb"


def _failure_message(result) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure)
    return failure.step_failure_data.user_failure_data.description or failure.step_failure_data.error.message


def _run_and_expect_failure(workspace, published_before) -> str:
    published = workspace / "segments.duckdb"
    shutil.copy(published_before, published)
    before = published.read_bytes()
    result = run_segmentation_job()
    assert not result.success
    assert published.read_bytes() == before
    return _failure_message(result)


def test_missing_required_column(workspace, copy_landing, published_before):
    landing = copy_landing()
    rewrite_csv(landing / "orders.csv", "SELECT * EXCLUDE (_n, ordered_at) FROM src")
    message = _run_and_expect_failure(workspace, published_before)
    assert "orders.csv" in message and "'ordered_at'" in message and "found order_id, user_id" in message


def test_unreadable_file(workspace, copy_landing, published_before):
    landing = copy_landing()
    (landing / "reviews.csv").write_bytes(b"\x00\x01\x02\xff\xfe binary, not a CSV \x00\xff")
    message = _run_and_expect_failure(workspace, published_before)
    assert "reviews.csv" in message and "Cannot read" in message


def test_wrong_delimiter(workspace, copy_landing, published_before):
    landing = copy_landing()
    rewrite_csv(landing / "orders.csv", "SELECT * EXCLUDE (_n) FROM src", delimiter=";")
    (workspace / "segmentation.yaml").write_text("orders: {read_options: {delim: ','}}\n")
    message = _run_and_expect_failure(workspace, published_before)
    assert "orders.csv" in message and "delimiter" in message and "';'" in message


def test_empty_file(workspace, copy_landing, published_before):
    landing = copy_landing()
    (landing / "users.csv").write_text("")
    message = _run_and_expect_failure(workspace, published_before)
    assert "users.csv" in message and "empty" in message and "user_id" in message


def test_column_that_cannot_be_cast(workspace, copy_landing, published_before):
    landing = copy_landing()
    # amount and status swapped by a broken export: no amount is a number
    rewrite_csv(landing / "orders.csv", "SELECT * EXCLUDE (_n) REPLACE (status AS amount, amount AS status) FROM src")
    message = _run_and_expect_failure(workspace, published_before)
    assert "orders.csv" in message and "'amount'" in message and "a number" in message and "completed" in message


def test_header_only_orders_file(workspace, copy_landing, published_before):
    landing = copy_landing()
    rewrite_csv(landing / "orders.csv", "SELECT * EXCLUDE (_n) FROM src WHERE false")
    message = _run_and_expect_failure(workspace, published_before)
    assert "orders.csv" in message and "no data rows" in message
