"""Stable segment ids: a refit on slightly changed data keeps each segment's id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.ml.config import SegmentationConfig
from segmentation_pipeline.ml.identity import match_segments
from segmentation_pipeline.ml.segmentation import segment_users
from test_ml_segments import _shop

CONFIG = SegmentationConfig(k_min=2, k_max=4, make_plots=False)


def test_hand_built_matching_keeps_ids_reports_changes_and_new_segments():
    previous = np.array([1] * 50 + [2] * 30 + [3] * 20)
    # New labels: index 0 = old 2, index 1 = old 1 (half of it), index 2 = other half of old 1 + all of old 3.
    labels = np.array([1] * 25 + [2] * 25 + [0] * 30 + [2] * 20)
    match = match_segments(previous, labels, k=3, max_segment_id=3)
    assert match.ids.tolist() == [2, 1, 3]
    report = match.report.set_index("segment_id")
    assert report.loc[2, "status"] == "kept"
    assert report.loc[3, "status"] == "changed"  # 20 of old 3's users among 45: Jaccard 20/45 < 0.5
    assert report.loc[1, "jaccard"] == 0.5
    extra = match_segments(previous, np.array([0] * 50 + [1] * 30 + [2] * 10 + [3] * 10), k=4, max_segment_id=7)
    assert extra.ids.tolist()[:2] == [1, 2] and extra.ids[3] == 8  # a new segment gets an id never used before
    assert extra.report.set_index("segment_id").loc[8, "status"] == "new"


def test_refit_on_changed_data_keeps_segment_ids():
    features = _shop(seed=3)
    first = segment_users(features, CONFIG, seed=42)
    # Yesterday's data minus most of the largest segment, plus a little noise: the size order changes.
    rng = np.random.default_rng(1)
    largest = first.labels == 0
    keep = ~largest | (rng.random(len(features)) < 0.25)
    changed = features[keep].reset_index(drop=True).copy()
    changed["monetary"] = changed["monetary"] * rng.uniform(0.97, 1.03, len(changed))
    second = segment_users(changed, CONFIG, seed=42)
    previous_ids = first.model.predict(changed) + 1
    match = match_segments(previous_ids, second.labels, second.k, max_segment_id=first.k)
    naive = pd.crosstab(previous_ids, second.labels + 1)
    assert not all(naive.idxmax(axis=1) == naive.index)  # without matching, "segment 1" changes meaning
    ids = match.ids[second.labels]
    agreement = (ids == previous_ids).mean()
    assert agreement > 0.95
    names_before = {i + 1: n for i, n in first.names.items()}
    names_after = {int(match.ids[i]): n for i, n in second.names.items()}
    same_name = [i for i in names_after if names_before.get(i, "").split(",")[0] == names_after[i].split(",")[0]]
    assert len(same_name) >= len(names_after) - 1
