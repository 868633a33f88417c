"""The whole job on a generated shop, run for real: ingest, dbt build, clustering, publish."""

from __future__ import annotations

import duckdb
import numpy as np

from conftest import run_segmentation_job
from segmentation_pipeline.ml.artifacts import load_model
from segmentation_pipeline.ml.preprocessing import numeric_frame
from segmentation_pipeline.publish import PUBLISHED_COLUMNS

RFM_NAMES = {
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising",
    "Need Attention", "About To Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
    "No Purchases",
}
PII_WORDS = ("email", "phone", "name", "address")


def test_job_publishes_one_label_per_user(workspace, copy_landing):
    copy_landing()
    result = run_segmentation_job()
    assert result.success

    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/orders", "raw/events", "user_features", "user_rfm_segments", "user_segments", "churn_scores", "segment_labels"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]

    published = workspace / "segments.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE segment_labels").fetchall()]
        assert tuple(columns) == PUBLISHED_COLUMNS
        users, distinct_users, null_segments = con.execute(
            "SELECT count(*), count(DISTINCT user_id), count(*) FILTER (segment_name IS NULL) FROM segment_labels"
        ).fetchone()
        rfm = {r[0] for r in con.execute("SELECT DISTINCT rfm_segment FROM segment_labels").fetchall()}
        stages = {r[0] for r in con.execute("SELECT DISTINCT lifecycle_stage FROM segment_labels").fetchall()}
        as_of = con.execute("SELECT DISTINCT as_of_date::VARCHAR FROM segment_labels").fetchall()
        segments = con.execute("SELECT count(DISTINCT segment_id), count(DISTINCT segment_name) FROM segment_labels").fetchone()
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.columns").fetchall()]
        all_columns = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()]
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        feature_users = con.execute("SELECT count(*) FROM marts.user_features").fetchone()[0]

    assert users == distinct_users == feature_users > 1000
    assert null_segments == 0
    assert rfm <= RFM_NAMES and len(rfm) >= 5
    assert stages <= {"new", "active", "silent", "churned"} and len(stages) >= 3
    assert as_of == [("2026-06-30",)]  # latest activity in the generated shop
    assert segments[0] == segments[1] >= 2  # every segment has its own name
    assert set(tables) == {"segment_labels", "segment_history", "segment_history_slices", "segment_summary",
                           "rfm_summary", "segment_migration", "segment_effects", "segment_associations"}
    assert not [c for c in all_columns if any(w in c.lower() for w in PII_WORDS) and not c.endswith("segment_name")]


def test_same_data_and_seed_give_same_segments(workspace, copy_landing):
    copy_landing()
    query = "SELECT user_id, segment_id, segment_name, rfm_segment, model_version FROM segment_labels ORDER BY user_id"
    assert run_segmentation_job().success
    with duckdb.connect(str(workspace / "segments.duckdb"), read_only=True) as con:
        first = con.execute(query).fetchall()
    assert run_segmentation_job().success
    with duckdb.connect(str(workspace / "segments.duckdb"), read_only=True) as con:
        second = con.execute(query).fetchall()
    assert first == second


def _mode(result, asset: str) -> str:
    event = next(m for m in result.get_asset_materialization_events() if m.asset_key.to_user_string() == asset)
    return event.materialization.metadata["mode"].value


def test_between_refits_users_are_assigned_by_the_saved_classifier(workspace, copy_landing, monkeypatch):
    copy_landing()
    (workspace / "segmentation.yaml").write_text(
        "clustering: {k_min: 2, k_max: 6, seed: 42, refit_every_days: 30}\nchurn: {retrain_every_days: 30}\n"
    )
    monkeypatch.setenv("SEGMENTATION_AS_OF", "2026-06-20")
    first = run_segmentation_job()
    # Between retrains the churn model's training features are not rebuilt: drop them to see it.
    with duckdb.connect(str(workspace / "warehouse.duckdb")) as con:
        first_churn_version = con.execute("SELECT DISTINCT churn_model_version FROM ml.churn_scores").fetchall()
        con.execute("DROP SCHEMA marts_churn_train CASCADE")
    monkeypatch.setenv("SEGMENTATION_AS_OF", "2026-06-30")
    second = run_segmentation_job()

    assert first.success and second.success
    assert _mode(first, "user_segments") == "re-clustered" and _mode(second, "user_segments").startswith("assigned")
    assert _mode(first, "churn_scores") == "retrained" and _mode(second, "churn_scores").startswith("scored with")
    with duckdb.connect(str(workspace / "warehouse.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
        churn = con.execute("SELECT DISTINCT churn_model_version FROM ml.churn_scores").fetchall()
        features = con.execute("SELECT * FROM marts.user_features ORDER BY user_id").fetch_df()
        scores = con.execute("SELECT churn_probability FROM ml.churn_scores ORDER BY user_id").fetch_df()
    assert "marts_churn_train" not in schemas
    assert churn == first_churn_version and len(churn) == 1
    # The saved model scored today's features (2026-06-30), not a copy of the first run's scores.
    bundle, card = load_model(workspace / "models", churn[0][0])
    expected = bundle["model"].predict_proba(numeric_frame(features, bundle["features"]))[:, 1]
    assert card["data_window"]["as_of_date"] == "2026-06-20"
    assert np.abs(scores["churn_probability"].to_numpy() - expected.round(4)).max() < 1e-9
    with duckdb.connect(str(workspace / "segments.duckdb"), read_only=True) as con:
        versions = con.execute("SELECT DISTINCT model_version, as_of_date::VARCHAR FROM segment_labels").fetchall()
        new_users = con.execute(
            "SELECT count(*), min(segment_confidence) FROM segment_labels WHERE lifecycle_stage = 'new'"
        ).fetchone()
    assert versions == [(versions[0][0], "2026-06-30")] and "2026-06-20" in versions[0][0]
    assert new_users[0] > 0 and new_users[1] > 0
