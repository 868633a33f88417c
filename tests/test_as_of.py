"""An earlier as-of date on full history equals a run on data cut at that date."""

from __future__ import annotations

import duckdb

from conftest import run_segmentation_job

AS_OF = "2026-05-31"
CUT = "TIMESTAMP '2026-06-01'"
CUTS = {
    "orders": f"CAST(ordered_at AS TIMESTAMP) < {CUT}",
    "events": f"CAST(occurred_at AS TIMESTAMP) < {CUT}",
    "users": f"CAST(signup_at AS TIMESTAMP) < {CUT}",
    "reviews": f"CAST(created_at AS TIMESTAMP) < {CUT}",
}


def _snapshot(workspace):
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        features = con.execute("SELECT * FROM marts.user_features ORDER BY user_id").fetchall()
        rfm = con.execute("SELECT * FROM marts.user_rfm_segments ORDER BY user_id").fetchall()
    with duckdb.connect(str(workspace / "segments.duckdb"), read_only=True) as con:
        labels = con.execute(
            "SELECT user_id, segment_id, segment_name, rfm_segment, lifecycle_stage, as_of_date "
            "FROM segment_labels ORDER BY user_id"
        ).fetchall()
    return features, rfm, labels


def test_earlier_as_of_equals_data_cut_at_that_date(workspace, copy_landing, monkeypatch):
    landing = copy_landing()
    monkeypatch.setenv("SEGMENTATION_AS_OF", AS_OF)
    assert run_segmentation_job().success
    on_full_history = _snapshot(workspace)

    for table, keep in CUTS.items():
        source = landing / table if table == "events" else landing / f"{table}.csv"
        pattern = f"{source}/*.csv" if table == "events" else str(source)
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{pattern}') WHERE {keep}) TO '{landing / (table + '.cut.csv')}' (HEADER)")
    duckdb.sql(
        f"COPY (SELECT i.* FROM read_csv('{landing / 'order_items.csv'}') i "
        f"SEMI JOIN read_csv('{landing / 'orders.cut.csv'}') o USING (order_id)) "
        f"TO '{landing / 'order_items.cut.csv'}' (HEADER)"
    )
    for item in list(landing.iterdir()):
        if ".cut." not in item.name:
            if item.is_dir():
                for part in item.iterdir():
                    part.unlink()
                item.rmdir()
            else:
                item.unlink()
    for item in list(landing.iterdir()):
        item.rename(landing / item.name.replace(".cut", ""))
    monkeypatch.delenv("SEGMENTATION_AS_OF")

    assert run_segmentation_job().success
    on_cut_data = _snapshot(workspace)

    assert on_cut_data[0] == on_full_history[0]  # user_features
    assert on_cut_data[1] == on_full_history[1]  # RFM and lifecycle
    assert on_cut_data[2] == on_full_history[2]  # published labels
    assert on_cut_data[2][0][-1].isoformat() == AS_OF
