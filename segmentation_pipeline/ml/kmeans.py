"""Legacy K-Means segmentation with K chosen by silhouette score (used by `segments.py`).

Superseded by `segmentation.segment_users` (automatic algorithm and K selection, names, tags,
classifier, explanations); kept so the current Dagster asset keeps working until it is rewired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from segmentation_pipeline.ml.config import SegmentationError
from segmentation_pipeline.ml.features import MODEL_FEATURES, build_preprocessor

__all__ = ["KMeansSegmentation", "SegmentationError", "fit_kmeans"]


@dataclass
class KMeansSegmentation:
    model: Pipeline
    labels: np.ndarray  # 0..k-1, ordered by segment size (0 = largest)
    label_mapping: np.ndarray  # KMeans cluster index -> segment index
    k: int
    silhouette_by_k: dict[int, float] = field(default_factory=dict)

    @property
    def silhouette(self) -> float:
        return self.silhouette_by_k[self.k]


def _order_by_size(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Segment 0 is the largest; ties broken by centroid coordinates so ids are deterministic."""
    counts = np.bincount(labels, minlength=len(centers))
    order = sorted(range(len(centers)), key=lambda c: (-counts[c], tuple(np.round(centers[c], 9))))
    mapping = np.empty(len(centers), dtype=int)
    mapping[order] = np.arange(len(centers))
    return mapping


def fit_kmeans(*args, **kwargs) -> KMeansSegmentation:
    with threadpool_limits(limits=1):  # more threads than cores makes OpenMP K-Means ~50x slower
        return _fit_kmeans(*args, **kwargs)


def _fit_kmeans(
    features: pd.DataFrame,
    k_min: int = 2,
    k_max: int = 8,
    seed: int = 42,
    silhouette_sample_size: int = 10_000,
) -> KMeansSegmentation:
    n_users = len(features)
    if n_users < max(k_min, 2) + 1:
        raise SegmentationError(
            f"user_features has {n_users} users; clustering needs at least {max(k_min, 2) + 1}. "
            "Load more data or lower clustering.k_min in segmentation.yaml."
        )
    k_max = min(k_max, n_users - 1)
    preprocessor = build_preprocessor()
    matrix = preprocessor.fit_transform(features[MODEL_FEATURES])
    sample = min(silhouette_sample_size, n_users)

    scores: dict[int, float] = {}
    fitted: dict[int, KMeans] = {}
    for k in range(k_min, k_max + 1):
        model = KMeans(n_clusters=k, init="k-means++", n_init=4, random_state=seed).fit(matrix)
        if len(np.unique(model.labels_)) < 2:
            continue
        scores[k] = float(
            silhouette_score(matrix, model.labels_, sample_size=sample, random_state=seed)
        )
        fitted[k] = model
    if not scores:
        raise SegmentationError("All users have identical features; there is nothing to segment.")
    best_k = max(scores, key=lambda k: (round(scores[k], 6), -k))
    best = fitted[best_k]
    mapping = _order_by_size(best.labels_, best.cluster_centers_)
    pipeline = Pipeline([*preprocessor.steps, ("kmeans", best)])
    return KMeansSegmentation(
        model=pipeline,
        labels=mapping[best.labels_],
        label_mapping=mapping,
        k=best_k,
        silhouette_by_k=scores,
    )
