"""Segment users from `marts.user_features`; results go to `ml.user_segments` and `ml.segments`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from segmentation_pipeline.ml.artifacts import load_model, save_segmentation
from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError, Thresholds
from segmentation_pipeline.ml.segmentation import SegmentationOutcome, assign_new_users, segment_users
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection

__all__ = ["SegmentRun", "SegmentationError", "load_feature_frame", "run_segmentation", "segmentation_config"]


@dataclass
class SegmentRun:
    as_of: date
    version: str
    classifier_version: str
    outcome: SegmentationOutcome | None  # None when users were assigned with saved models
    assignments: pd.DataFrame
    names: dict[int, str]

    @property
    def refitted(self) -> bool:
        return self.outcome is not None


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


def _write(settings: Settings, assignments: pd.DataFrame, names: dict[int, str], version: str,
           segments: pd.DataFrame | None = None) -> None:
    assignments = assignments.assign(model_version=version)
    # One row per segment the model defined (ids 1..k), so an empty segment shows up as 0 users.
    catalog = pd.DataFrame({"segment_id": [i + 1 for i in sorted(names)], "segment_name": [names[i] for i in sorted(names)]})
    if segments is not None:
        catalog = catalog.merge(segments.drop(columns=["segment_name", "users"]), on="segment_id", how="left")
    users = assignments.groupby("segment_id").size()
    catalog = catalog.assign(users=catalog["segment_id"].map(users).fillna(0).astype("int64"), model_version=version)
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        for name, frame in (("user_segments", assignments), ("segments", catalog)):
            con.register("incoming", frame)
            con.execute(f"CREATE OR REPLACE TABLE ml.{name} AS SELECT * FROM incoming")
            con.unregister("incoming")


def recent_models(models_dir: Path, as_of: date, max_age_days: int) -> tuple[str, str] | None:
    """The newest saved segmentation (and its classifier) fitted within `max_age_days` before `as_of`."""
    cards = [json.loads(p.read_text()) for p in sorted(models_dir.glob("*/model.json"))]
    fitted = [
        c for c in cards
        if c.get("kind") == "segmentation"
        and as_of - timedelta(days=max_age_days) < date.fromisoformat(c["data_window"]["as_of_date"]) <= as_of
    ]
    for card in sorted(fitted, key=lambda c: (c["data_window"]["as_of_date"], c["trained_at"]), reverse=True):
        classifier = [c for c in cards if c.get("segmentation_version") == card["model_version"]]
        if classifier:
            return card["model_version"], classifier[0]["model_version"]
    return None


def run_segmentation(settings: Settings) -> SegmentRun:
    """Refit (every run by default), or assign with the recent model (clustering.refit_every_days)."""
    frame = load_feature_frame(settings)
    as_of = pd.Timestamp(frame["as_of_date"].iloc[0]).date()
    config = segmentation_config(settings)
    every = settings.config.clustering.refit_every_days
    saved = recent_models(settings.models_dir, as_of, every) if every else None
    if saved:
        segmentation, _ = load_model(settings.models_dir, saved[0])
        classifier, _ = load_model(settings.models_dir, saved[1])
        assignments = assign_new_users(
            segmentation["segment_model"], classifier["classifier"], frame, segmentation["tag_cutoffs"], config
        )
        names = segmentation["segment_names"]
        _write(settings, assignments, names, saved[0])
        return SegmentRun(as_of, saved[0], saved[1], None, assignments, names)
    outcome = segment_users(frame, config)
    versions = save_segmentation(settings.models_dir, outcome, as_of)
    _write(settings, outcome.assignments, outcome.names, versions["segmentation"], outcome.segments)
    return SegmentRun(
        as_of, versions["segmentation"], versions["classifier"], outcome, outcome.assignments, outcome.names
    )
