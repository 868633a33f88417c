"""Segment users from `marts.user_features`; results go to `ml.user_segments` and `ml.segments`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from segmentation_pipeline.ml.artifacts import save_segmentation
from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError, Thresholds
from segmentation_pipeline.ml.segmentation import SegmentationOutcome, segment_users
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection

__all__ = ["SegmentRun", "SegmentationError", "load_feature_frame", "run_segmentation", "segmentation_config"]


@dataclass
class SegmentRun:
    as_of: date
    version: str
    classifier_version: str
    outcome: SegmentationOutcome


def segmentation_config(settings: Settings) -> SegmentationConfig:
    clustering = settings.config.clustering
    return SegmentationConfig(
        k_min=clustering.k_min,
        k_max=clustering.k_max,
        seed=clustering.seed,
        pinned_k=clustering.k,
        pinned_algorithm=clustering.algorithm,
        silhouette_sample_size=min(clustering.silhouette_sample_size, 10_000),
        thresholds=Thresholds(**settings.config.lifecycle.model_dump()),
    )


def load_feature_frame(settings: Settings, relation: str = "marts.user_features") -> pd.DataFrame:
    """The whole feature table via Arrow: the models read every feature column."""
    with warehouse_connection(settings, read_only=True) as con:
        frame = con.execute(f"SELECT * FROM {relation} ORDER BY user_id").to_arrow_table().to_pandas()
    if frame.empty:
        raise SegmentationError(f"{relation} is empty: no users to segment. Check the landing files.")
    return frame


def _write(settings: Settings, outcome: SegmentationOutcome, version: str) -> None:
    assignments = outcome.assignments.assign(model_version=version)
    # One row per segment the model defined (ids 1..k), so an empty segment shows up as 0 users.
    catalog = pd.DataFrame(
        {"segment_id": [i + 1 for i in sorted(outcome.names)], "segment_name": [outcome.names[i] for i in sorted(outcome.names)]}
    ).merge(outcome.segments.drop(columns=["segment_name"]), on="segment_id", how="left")
    catalog = catalog.assign(users=catalog["users"].fillna(0).astype("int64"), model_version=version)
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        for name, frame in (("user_segments", assignments), ("segments", catalog)):
            con.register("incoming", frame)
            con.execute(f"CREATE OR REPLACE TABLE ml.{name} AS SELECT * FROM incoming")
            con.unregister("incoming")


def run_segmentation(settings: Settings) -> SegmentRun:
    frame = load_feature_frame(settings)
    as_of = pd.Timestamp(frame["as_of_date"].iloc[0]).date()
    outcome = segment_users(frame, segmentation_config(settings))
    versions = save_segmentation(settings.models_dir, outcome, as_of)
    _write(settings, outcome, versions["segmentation"])
    return SegmentRun(as_of, versions["segmentation"], versions["classifier"], outcome)
