"""Only `orders` is required: the pipeline publishes from orders alone."""

from __future__ import annotations

import duckdb

from conftest import published_rows, run_segmentation_job


def test_orders_only_publishes(workspace, copy_landing):
    landing = copy_landing("orders")
    assert sorted(p.name for p in landing.iterdir()) == ["orders.csv"]

    result = run_segmentation_job()

    assert result.success
    published = published_rows(workspace / "segments.duckdb", "SELECT user_id, segment_name FROM segment_labels ORDER BY 1")
    ordering_users = duckdb.sql(
        f"SELECT DISTINCT CAST(user_id AS VARCHAR) FROM read_csv('{landing / 'orders.csv'}') ORDER BY 1"
    ).fetchall()
    assert [u for u, _ in published] == [u for (u,) in ordering_users]
    assert len({name for _, name in published}) >= 2
