"""A shop whose export names columns differently is mapped in segmentation.yaml."""

from __future__ import annotations

import duckdb

from conftest import run_segmentation_job

FEATURES = "SELECT * EXCLUDE (as_of_date) FROM marts.user_features ORDER BY user_id"


def _features(workspace):
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(FEATURES).fetchall()


def test_mapped_columns_and_date_format_give_the_same_features(workspace, copy_landing):
    landing = copy_landing("orders")
    assert run_segmentation_job().success
    expected = _features(workspace)

    # The same orders, exported the way another shop system does it.
    duckdb.sql(
        f"""
        COPY (
            SELECT order_id AS "Order ID", user_id AS customer_id,
                   strftime(CAST(ordered_at AS TIMESTAMP), '%d/%m/%Y %H:%M:%S') AS purchase_date,
                   amount AS dollar_value, status
            FROM read_csv('{landing / "orders.csv"}')
        ) TO '{landing / "shop_export.csv"}' (HEADER, DELIMITER ';')
        """
    )
    (landing / "orders.csv").unlink()
    (workspace / "segmentation.yaml").write_text(
        "clustering: {k_min: 2, k_max: 6, seed: 42}\n"
        "orders:\n"
        "  path: shop_export.csv\n"
        "  columns: {order_id: Order ID, user_id: customer_id, ordered_at: purchase_date, amount: dollar_value}\n"
        "  formats: {ordered_at: '%d/%m/%Y %H:%M:%S'}\n"
        "  read_options: {delim: ';'}\n"
    )

    result = run_segmentation_job()

    assert result.success
    assert _features(workspace) == expected


def test_unmapped_column_names_the_file_the_column_and_the_fix(workspace, copy_landing):
    landing = copy_landing("orders")
    duckdb.sql(
        f"COPY (SELECT * RENAME (amount AS dollar_value) FROM read_csv('{landing / 'orders.csv'}')) "
        f"TO '{landing / 'orders_renamed.csv'}' (HEADER)"
    )
    (landing / "orders_renamed.csv").replace(landing / "orders.csv")

    result = run_segmentation_job()

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "orders.csv" in message and "'amount'" in message and "dollar_value" in message
    assert "segmentation.yaml" in message
