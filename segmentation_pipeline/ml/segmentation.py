"""Entry point: `segment_users(features, config, seed) -> SegmentationOutcome`.

Steps: fit the preprocessing on a random sample of at most `selection_sample_size` users, fit
and score every candidate on it, keep the chosen model, assign every user with it (the only
full-data pass: transform + predict), order segments by size, name them, tag users, train the
segment classifier (confidence, new users), explain, draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from segmentation_pipeline.ml import plots
from segmentation_pipeline.ml.algorithms import sample_rows
from segmentation_pipeline.ml.classifier import ClassifierResult, predict_proba, segment_confidence, train_classifier
from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError
from segmentation_pipeline.ml.explain import (
    SurrogateRules, classifier_importance, profile_matrix, segment_profiles, surrogate_rules,
)
from segmentation_pipeline.ml.model import SegmentModel, cluster_centers, order_segments
from segmentation_pipeline.ml.naming import explain_names
from segmentation_pipeline.ml.preprocessing import MODEL_FEATURES, build_preprocessor
from segmentation_pipeline.ml.selection import select_clustering
from segmentation_pipeline.ml.tags import TagCutoffs, fit_tag_cutoffs, user_tags, value_tiers


@dataclass
class SegmentationOutcome:
    assignments: pd.DataFrame  # user_id, segment_id (1 = largest), segment_name, value_tier, tags, segment_confidence
    labels: np.ndarray  # segment index 0..k-1 per input row (segment_id - 1)
    names: dict[int, str]  # segment index -> name
    segments: pd.DataFrame  # per segment: id, name, users, share, naming rule, description, mean confidence
    algorithm: str
    k: int
    candidates: pd.DataFrame  # every candidate's scores (selection table)
    selection_rule: str
    model: SegmentModel
    classifier: ClassifierResult
    profiles: pd.DataFrame
    importance: pd.DataFrame
    surrogate: SurrogateRules
    tag_cutoffs: TagCutoffs
    config: SegmentationConfig
    plots: dict[str, bytes] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        chosen = self.candidates[self.candidates["chosen"]].iloc[0]
        return {
            "algorithm": self.algorithm,
            "k": self.k,
            **{m: round(float(chosen[m]), 4)
               for m in ("silhouette", "davies_bouldin", "calinski_harabasz", "stability")},
            **self.classifier.metrics(),
            "surrogate_fidelity": round(self.surrogate.fidelity, 4),
            "users": int(len(self.labels)),
        }


def _check(features: pd.DataFrame, config: SegmentationConfig) -> pd.DataFrame:
    missing = [c for c in MODEL_FEATURES if c not in features.columns]
    if missing:
        raise SegmentationError(f"user_features is missing column(s) {missing}")
    if len(features) < config.k_values[0] + 1:
        raise SegmentationError(
            f"user_features has {len(features)} users; clustering needs at least {config.k_values[0] + 1}. "
            "Load more data or lower k_min."
        )
    return features.reset_index(drop=True)


def fit_segment_model(features: pd.DataFrame, config: SegmentationConfig):
    """Preprocess a sample, choose the clustering, assign everyone.

    Returns (model, labels of all users, selection, preprocessed sample, sample row positions).
    """
    rows = sample_rows(len(features), config.selection_sample_size, config.seed)
    preprocessor = build_preprocessor(config.winsor_quantiles, config.pca_components, config.seed)
    X_sample = preprocessor.fit_transform(features.iloc[rows][MODEL_FEATURES])
    if config.k_max >= len(rows):
        config = replace(config, k_max=max(config.k_min, len(rows) - 1))
    selection = select_clustering(X_sample, config)
    model = SegmentModel(preprocessor, selection.clustering.predictor, np.arange(selection.k),
                         selection.algorithm, selection.k)
    raw = model.predict_raw(features)
    counts = np.bincount(raw, minlength=selection.k)
    model.mapping = order_segments(counts, cluster_centers(X_sample, selection.clustering.labels, selection.k))
    return model, model.mapping[raw], selection, X_sample, rows


def segment_users(
    features: pd.DataFrame, config: SegmentationConfig | None = None, seed: int | None = None
) -> SegmentationOutcome:
    """Segment every row of `user_features` (see the module docstring). Same data + seed -> same labels."""
    config = config or SegmentationConfig()
    if seed is not None:
        config = replace(config, seed=seed)
    features = _check(features, config)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    with threadpool_limits(limits=config.threads):
        model, labels, selection, X_sample, rows = fit_segment_model(features, config)
        lap("selection_and_assignment")
        named = explain_names(features, labels, config.thresholds)
        names = {s: n.name for s, n in named.items()}
        model.names = names
        cutoffs = fit_tag_cutoffs(features)
        tiers, tags = value_tiers(features, cutoffs), user_tags(features, cutoffs, config.thresholds)
        lap("naming_and_tags")
        classifier = train_classifier(features, labels, config)
        confidence = segment_confidence(classifier, features, labels)
        lap("classifier")
        profiles = segment_profiles(features, labels, names)
        importance = classifier_importance(classifier.model, features, labels, classifier.test_rows,
                                           config.importance_repeats, config.importance_sample_size, config.seed)
        surrogate = surrogate_rules(features, labels, names, classifier.train_rows, classifier.test_rows,
                                    config.surrogate_depth, config.seed)
        lap("explanations")
        figures = {}
        if config.make_plots:
            figures = {
                "selection": plots.plot_selection(selection.candidates),
                "projection": plots.plot_projection(X_sample, labels[rows], names, config.plot_sample_size,
                                                    config.seed),
                "profile_heatmap": plots.plot_profile_heatmap(profile_matrix(profiles)),
                "feature_importance": plots.plot_importance(importance),
            }
        lap("plots")

    user_ids = features["user_id"] if "user_id" in features else pd.Series(features.index)
    assignments = pd.DataFrame({
        "user_id": user_ids.to_numpy(),
        "segment_id": (labels + 1).astype("int32"),
        "segment_name": model.segment_names(labels),
        "value_tier": tiers,
        "tags": tags,
        "segment_confidence": np.round(confidence, 4),
    })
    segments = (
        assignments.groupby("segment_id")
        .agg(users=("user_id", "size"), mean_confidence=("segment_confidence", "mean"))
        .reset_index()
    )
    segments.insert(1, "segment_name", [names[s - 1] for s in segments["segment_id"]])
    segments["share"] = (segments["users"] / len(assignments)).round(4)
    segments["naming_rule"] = [named[s - 1].rule for s in segments["segment_id"]]
    segments["description"] = [named[s - 1].description for s in segments["segment_id"]]
    return SegmentationOutcome(
        assignments=assignments, labels=labels, names=names, segments=segments, algorithm=selection.algorithm,
        k=selection.k, candidates=selection.candidates, selection_rule=selection.rule, model=model,
        classifier=classifier, profiles=profiles, importance=importance, surrogate=surrogate, tag_cutoffs=cutoffs,
        config=config, plots=figures, timings=timings,
    )


def assign_new_users(outcome_model: SegmentModel, classifier_model, features: pd.DataFrame, cutoffs: TagCutoffs,
                     config: SegmentationConfig | None = None) -> pd.DataFrame:
    """Segment users who appeared after the last clustering with the saved classifier.

    segment = the classifier's most probable segment, segment_confidence = that probability;
    value tiers and tags use the cut-offs fitted at clustering time.
    """
    config = config or SegmentationConfig()
    features = features.reset_index(drop=True)
    with threadpool_limits(limits=config.threads):
        proba = predict_proba(classifier_model, features)
    labels = classifier_model.classes_[proba.argmax(axis=1)].astype(int)
    return pd.DataFrame({
        "user_id": features["user_id"].to_numpy() if "user_id" in features else features.index.to_numpy(),
        "segment_id": (labels + 1).astype("int32"),
        "segment_name": outcome_model.segment_names(labels),
        "value_tier": value_tiers(features, cutoffs),
        "tags": user_tags(features, cutoffs, config.thresholds),
        "segment_confidence": np.round(proba.max(axis=1), 4),
    })
