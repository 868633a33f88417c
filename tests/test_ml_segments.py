"""K-Means selection and segment naming on small synthetic feature tables (no Dagster)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.ml.features import MODEL_FEATURES
from segmentation_pipeline.ml.kmeans import SegmentationError, fit_kmeans
from segmentation_pipeline.ml.naming import name_segments

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
                   events_90d=300, tenure_days=700, recency_days=5),
            _group(rng, 200, frequency=0, monetary=0, avg_order_value=0, sessions_90d=25, events_90d=250,
                   tenure_days=400, add_to_cart_rate=0.6),
            _group(rng, 150, frequency=4, monetary=300, avg_order_value=75, sessions_90d=0.5, events_90d=2,
                   tenure_days=800, recency_days=400),
        ],
        ignore_index=True,
    )
    frame.loc[frame["frequency"] < 0.5, ["frequency", "monetary", "avg_order_value"]] = 0
    frame.loc[frame["frequency"] == 0, "recency_days"] = np.nan
    return frame


def test_kmeans_finds_planted_groups_deterministically():
    shop = _shop()
    first = fit_kmeans(shop, k_min=2, k_max=6, seed=42)
    second = fit_kmeans(shop, k_min=2, k_max=6, seed=42)
    assert first.k == 3
    assert np.array_equal(first.labels, second.labels)
    assert sorted(np.bincount(first.labels)) == [120, 150, 200]
    assert np.bincount(first.labels)[0] == 200  # segment ids ordered by size
    assert set(first.silhouette_by_k) == {2, 3, 4, 5, 6}


def test_segment_names_follow_the_profile_and_are_unique():
    shop = _shop()
    labels = fit_kmeans(shop, k_min=3, k_max=3, seed=1).labels
    names = name_segments(shop, labels, THRESHOLDS)
    by_size = {int(np.sum(labels == s)): name for s, name in names.items()}
    assert by_size[200] == "Window shoppers"
    assert by_size[150] == "Lapsed customers"
    assert by_size[120] == "High-value loyal"


def test_same_profile_twice_gets_distinct_names():
    shop = _shop()
    labels = np.where(shop.index < 60, 0, 1)  # two halves of the same kind of users
    labels[120:] = 2
    names = name_segments(shop, labels, THRESHOLDS)
    assert len(set(names.values())) == len(names)


def test_too_few_users_is_a_clear_error():
    with pytest.raises(SegmentationError, match="at least"):
        fit_kmeans(_shop().head(2), k_min=2, k_max=4)
