"""The fitted segmentation model: preprocessing + chosen clusterer + deterministic segment order."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from segmentation_pipeline.ml.preprocessing import MODEL_FEATURES


def order_segments(counts: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Raw cluster id -> segment index: 0 = most users; ties broken by centroid coordinates."""
    order = sorted(range(len(counts)), key=lambda c: (-int(counts[c]), tuple(np.round(centers[c], 9))))
    mapping = np.empty(len(counts), dtype=int)
    mapping[order] = np.arange(len(counts))
    return mapping


def cluster_centers(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.vstack([X[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(X.shape[1]) for c in range(k)])


@dataclass
class SegmentModel:
    """Assigns any user_features rows to segment indices 0..k-1 (0 = largest at fit time)."""

    preprocessor: Pipeline  # fitted on the selection sample
    clusterer: object  # .predict(preprocessed) -> raw cluster id
    mapping: np.ndarray  # raw cluster id -> segment index
    algorithm: str
    k: int
    features: list[str] = field(default_factory=lambda: list(MODEL_FEATURES))
    names: dict[int, str] = field(default_factory=dict)  # segment index -> name (filled after naming)

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        return self.preprocessor.transform(features[self.features])

    def predict_raw(self, features: pd.DataFrame, batch_size: int = 200_000) -> np.ndarray:
        parts = [
            np.asarray(self.clusterer.predict(self.transform(features.iloc[i:i + batch_size])), dtype=int)
            for i in range(0, len(features), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=int)

    def predict(self, features: pd.DataFrame, batch_size: int = 200_000) -> np.ndarray:
        """Segment index per row (the full-data pass: transform + predict only, in batches)."""
        return self.mapping[self.predict_raw(features, batch_size)]

    def segment_names(self, labels: np.ndarray) -> np.ndarray:
        return np.array([self.names.get(int(s), str(s)) for s in range(self.k)], dtype=object)[labels]
