"""The ML building blocks on small synthetic feature tables (fast, no Dagster)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError
from segmentation_pipeline.ml.explain import surrogate_rules
from segmentation_pipeline.ml.metrics import Silhouette, knee_point
from segmentation_pipeline.ml.naming import name_segments
from segmentation_pipeline.ml.preprocessing import (
    MODEL_FEATURES, RECENCY_CAP_DAYS, QuantileClipper, build_preprocessor, transformed_feature_names,
)
from segmentation_pipeline.ml.selection import select_clustering
from segmentation_pipeline.ml.tags import TAGS, fit_tag_cutoffs, tag_flags, user_tags, value_tiers
from segmentation_pipeline.warehouse import replace_table

THRESHOLDS = {"new_customer_days": 30, "active_days": 90, "churn_days": 180}


def _group(rng, n, **means):
    base = {column: np.zeros(n) for column in MODEL_FEATURES}
    for column, mean in means.items():
        base[column] = rng.normal(mean, abs(mean) * 0.1 + 0.01, n).clip(0)
    return pd.DataFrame(base)


def _shop(seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.concat(
        [
            _group(rng, 120, frequency=20, monetary=4000, avg_order_value=200, orders_90d=6, sessions_90d=30,
                   events_90d=300, tenure_days=700, recency_days=5, days_since_last_activity=3),
            _group(rng, 200, frequency=0, monetary=0, avg_order_value=0, sessions_90d=25, events_90d=250,
                   tenure_days=400, add_to_cart_rate=0.6, days_since_last_activity=4),
            _group(rng, 150, frequency=4, monetary=300, avg_order_value=75, sessions_90d=0.5, events_90d=2,
                   tenure_days=800, recency_days=400, days_since_last_activity=390),
        ],
        ignore_index=True,
    )
    frame.loc[frame["frequency"] < 0.5, ["frequency", "monetary", "avg_order_value"]] = 0
    frame.loc[frame["frequency"] == 0, "recency_days"] = np.nan
    return frame


def test_preprocessing_imputes_undefined_values_and_winsorises():
    frame = pd.DataFrame({column: [0.0, 0.0, 0.0, 0.0] for column in MODEL_FEATURES})
    frame["frequency"] = [0, 2, 5, 1]
    frame["avg_order_value"] = [0.0, 10.0, 30.0, 20.0]
    frame["tenure_days"] = [400, 500, 50, 9000]
    frame["recency_days"] = pd.array([None, 20, 3, 800], dtype="Int32")  # nullable, as DuckDB returns it
    pipeline = build_preprocessor(winsor_quantiles=None)
    columns = pipeline.named_steps["columns"].fit(frame)
    out = pd.DataFrame(columns.transform(frame), columns=columns.get_feature_names_out())
    # never bought: days without a purchase = tenure (400); capped at RECENCY_CAP_DAYS
    assert np.allclose(np.expm1(out["days_without_purchase"]), [400, 20, 3, RECENCY_CAP_DAYS])
    # no order: average order value = the buyers' median (20), not 0
    assert np.allclose(np.expm1(out["avg_order_value"]), [20, 10, 30, 20])
    scaled = pipeline.fit_transform(frame)
    assert scaled.shape == (4, len(MODEL_FEATURES)) and np.isfinite(scaled).all()
    assert "days_without_purchase" in transformed_feature_names(pipeline)
    with_pca = build_preprocessor(pca_components=2).fit(_shop())
    assert with_pca.transform(_shop()).shape[1] == 2 and transformed_feature_names(with_pca) == ["pc1", "pc2"]


def test_quantile_clipper_clips_at_fitted_quantiles():
    values = np.arange(101, dtype=float).reshape(-1, 1)
    clipper = QuantileClipper(0.05, 0.95).fit(values)
    assert clipper.transform(np.array([[-50.0], [50.0], [500.0]])).ravel().tolist() == [5.0, 50.0, 95.0]


def test_selection_finds_three_blobs_with_every_algorithm_scored():
    X, truth = make_blobs(n_samples=900, centers=3, n_features=4, cluster_std=0.6, random_state=3)
    config = SegmentationConfig(k_min=2, k_max=5, stability_refits=2)
    result = select_clustering(X, config)
    assert result.k == 3
    assert set(result.candidates["algorithm"]) == {"kmeans", "gmm", "agglomerative", "hdbscan"}
    assert result.candidates["chosen"].sum() == 1
    assert result.candidates.loc[result.candidates["chosen"], "stability"].iloc[0] > 0.95
    again = select_clustering(X, config)
    assert np.array_equal(again.clustering.labels, result.clustering.labels)


def test_config_rejects_contradictions():
    with pytest.raises(SegmentationError, match="unknown algorithm"):
        SegmentationConfig(algorithms=("kmeans", "spectral"))
    with pytest.raises(SegmentationError, match="hdbscan"):
        SegmentationConfig(pinned_k=4, pinned_algorithm="hdbscan")
    with pytest.raises(SegmentationError, match="k_min"):
        SegmentationConfig(k_min=5, k_max=3)
    assert "hdbscan" not in SegmentationConfig(pinned_k=4).active_algorithms


def test_quality_measures():
    assert knee_point([1, 2, 3, 4, 5, 6], [100, 40, 20, 17, 15, 14]) == 3
    X, labels = make_blobs(n_samples=300, centers=4, random_state=0)
    assert Silhouette(X)(labels) == pytest.approx(silhouette_score(X, labels), abs=1e-5)


def test_segment_names_follow_the_profile_and_are_unique():
    shop = _shop()
    labels = np.repeat([0, 1, 2], [120, 200, 150])  # the three planted groups, in _shop's order
    names = name_segments(shop, labels, THRESHOLDS)
    by_size = {int(np.sum(labels == s)): name for s, name in names.items()}
    assert by_size == {200: "Window shoppers", 150: "Lapsed customers", 120: "High-value loyal"}


def test_same_profile_twice_gets_distinct_names():
    shop = _shop()
    labels = np.repeat([0, 1, 2, 3], [120, 200, 75, 75])  # the lapsed users split in two halves
    names = name_segments(shop, labels, THRESHOLDS)
    assert len(set(names.values())) == len(names)
    assert names[2] != names[3] and names[2].startswith("Lapsed customers") and names[3].startswith("Lapsed customers")


def test_value_tiers_and_tags_from_documented_rules():
    rows = pd.DataFrame([
        # big spender, frequent, recent
        dict(frequency=30, monetary=9000, avg_order_value=300, orders_90d=8, recency_days=3, tenure_days=900,
             refund_share=0.0, mean_days_between_orders=30, days_since_last_activity=3, sessions_90d=10,
             review_count=2, mean_rating=5.0, sentiment_score=0.8),
        # never bought, browses a lot, new
        dict(frequency=0, monetary=0, avg_order_value=0, orders_90d=0, recency_days=np.nan, tenure_days=10,
             refund_share=0.0, mean_days_between_orders=np.nan, days_since_last_activity=1, sessions_90d=40,
             review_count=0, mean_rating=np.nan, sentiment_score=0.0),
        # cheap, many refunds, harsh reviews, slipping (last order 120 days ago)
        dict(frequency=6, monetary=60, avg_order_value=10, orders_90d=0, recency_days=120, tenure_days=700,
             refund_share=0.4, mean_days_between_orders=20, days_since_last_activity=100, sessions_90d=1,
             review_count=3, mean_rating=1.7, sentiment_score=-0.6),
        # gone for a year
        dict(frequency=2, monetary=200, avg_order_value=100, orders_90d=0, recency_days=400, tenure_days=800,
             refund_share=0.0, mean_days_between_orders=50, days_since_last_activity=390, sessions_90d=0,
             review_count=0, mean_rating=np.nan, sentiment_score=0.0),
    ] + [dict(frequency=1, monetary=m, avg_order_value=m, orders_90d=1, recency_days=10, tenure_days=300,
              refund_share=0.0, mean_days_between_orders=np.nan, days_since_last_activity=10, sessions_90d=3,
              review_count=0, mean_rating=np.nan, sentiment_score=0.0) for m in (50, 80, 120, 150)])
    cutoffs = fit_tag_cutoffs(rows)
    tiers = value_tiers(rows, cutoffs)
    tags = user_tags(rows, cutoffs)
    assert tiers[0] == "high" and tiers[1] == "low"
    assert {"high_value", "frequent"} <= set(tags[0])
    assert set(tags[1]) == {"new", "engaged_browser"}
    assert {"at_risk", "discount_seeker", "unhappy_reviewer"} <= set(tags[2])
    assert "churned" in tags[3] and "at_risk" not in tags[3]
    assert all(set(t) <= set(TAGS) for t in tags)


def test_tags_are_each_users_flags_in_order_and_reach_duckdb_as_lists():
    rows = _shop().assign(tenure_days=lambda f: f["tenure_days"].where(f.index % 7 != 0, 5))
    cutoffs = fit_tag_cutoffs(rows)
    flags = tag_flags(rows, cutoffs)
    tags = user_tags(rows, cutoffs)
    expected = [[tag for tag in TAGS if flags.at[i, tag]] for i in flags.index]
    assert [list(t) for t in tags] == expected
    assert any(not t for t in expected) and any(len(t) > 1 for t in expected)  # empty and several tags covered
    with duckdb.connect() as con:
        replace_table(con, "tagged", pd.DataFrame({"user_id": rows.index.astype(str), "tags": tags}))
        kind = con.execute("select data_type from information_schema.columns where column_name = 'tags'").fetchone()
        assert kind == ("VARCHAR[]",)
        assert [r[0] for r in con.execute("select tags from tagged order by rowid").fetchall()] == expected


def test_surrogate_rules_are_readable_and_handle_never_buyers():
    shop = _shop()
    labels = np.repeat([1, 0, 2], [120, 200, 150])
    rows = np.arange(len(shop))
    surrogate = surrogate_rules(shop, labels, {0: "Window shoppers", 1: "High-value loyal", 2: "Lapsed customers"},
                                rows[::2], rows[1::2], depth=3)
    assert surrogate.fidelity == 1.0
    assert sorted(surrogate.rules["segment_name"]) == ["High-value loyal", "Lapsed customers", "Window shoppers"]
    assert all(" → " in rule for rule in surrogate.rule_strings)


def test_too_few_users_is_a_clear_error():
    with pytest.raises(SegmentationError, match="at least"):
        select_clustering(np.zeros((2, 3)), SegmentationConfig())
