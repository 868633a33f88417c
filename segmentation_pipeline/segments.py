"""Segment users from `marts.user_features`; results go to `ml.user_segments` and `ml.segments`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_pipeline.ml.artifacts import load_model, save_segmentation
from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError, Thresholds
from segmentation_pipeline.ml.identity import SegmentMatch, first_ids, match_segments
from segmentation_pipeline.ml.segmentation import SegmentationOutcome, assign_new_users, segment_users
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import replace_table, warehouse_connection

__all__ = ["SegmentRun", "SegmentationError", "load_feature_frame", "run_segmentation", "segmentation_config"]


@dataclass
class SegmentRun:
    as_of: date
    version: str
    classifier_version: str
    outcome: SegmentationOutcome | None  # None when users were assigned with saved models
    assignments: pd.DataFrame
    names: dict[int, str]  # segment_id -> name
    identity: SegmentMatch | None = None  # how refitted segments map to the previous model's ids

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
    # One row per segment the model defined, so an empty segment shows up as 0 users.
    catalog = pd.DataFrame({"segment_id": sorted(names), "segment_name": [names[i] for i in sorted(names)]})
    if segments is not None:
        catalog = catalog.merge(segments.drop(columns=["segment_name", "users"]), on="segment_id", how="left")
    users = assignments.groupby("segment_id").size()
    catalog = catalog.assign(users=catalog["segment_id"].map(users).fillna(0).astype("int64"), model_version=version)
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        for name, frame in (("user_segments", assignments), ("segments", catalog)):
            replace_table(con, f"ml.{name}", frame)


def model_cards(models_dir: Path) -> list[dict]:
    """Every saved model's card (model.json), in folder order."""
    return [json.loads(p.read_text()) for p in sorted(models_dir.glob("*/model.json"))]


def classifier_for(cards: list[dict], segmentation_version: str) -> str | None:
    """The version of the segment classifier trained with a segmentation, if one was saved."""
    return next((c["model_version"] for c in cards if c.get("segmentation_version") == segmentation_version), None)


def recent_cards(cards: list[dict], kind: str, as_of: date, max_age_days: int) -> list[dict]:
    """The cards of `kind` whose data as-of date is within `max_age_days` before `as_of`, newest first."""
    fitted = [
        c for c in cards
        if c.get("kind") == kind
        and as_of - timedelta(days=max_age_days) < date.fromisoformat(c["data_window"]["as_of_date"]) <= as_of
    ]
    return sorted(fitted, key=lambda c: (c["data_window"]["as_of_date"], c["trained_at"]), reverse=True)


def recent_models(models_dir: Path, as_of: date, max_age_days: int) -> tuple[str, str] | None:
    """The newest saved segmentation (and its classifier) fitted within `max_age_days` before `as_of`."""
    cards = model_cards(models_dir)
    for card in recent_cards(cards, "segmentation", as_of, max_age_days):
        classifier = classifier_for(cards, card["model_version"])
        if classifier:
            return card["model_version"], classifier
    return None


def previous_segmentation(models_dir: Path, as_of: date) -> dict | None:
    """The bundle of the most recently trained segmentation with data up to `as_of`, if any."""
    fitted = [c for c in model_cards(models_dir) if c.get("kind") == "segmentation"
              and date.fromisoformat(c["data_window"]["as_of_date"]) <= as_of]
    if not fitted:
        return None
    latest = max(fitted, key=lambda c: (c["trained_at"], c["data_window"]["as_of_date"], c["model_version"]))
    return load_model(models_dir, latest["model_version"])[0]


def bundle_ids(bundle: dict) -> np.ndarray:
    """Segment index -> published segment_id for a saved segmentation (older models: index + 1)."""
    return np.asarray(bundle.get("segment_ids") or range(1, bundle["segment_model"].k + 1), dtype=int)


def stable_ids(settings: Settings, outcome: SegmentationOutcome, frame: pd.DataFrame, as_of: date) -> SegmentMatch:
    previous = previous_segmentation(settings.models_dir, as_of)
    if previous is None:
        return first_ids(outcome.k)
    previous_ids = bundle_ids(previous)[previous["segment_model"].predict(frame)]
    return match_segments(previous_ids, outcome.labels, outcome.k, previous.get("max_segment_id", 0))


def _relabel(outcome: SegmentationOutcome, ids: np.ndarray) -> dict[int, str]:
    """Publish stable ids: rewrite segment_id in the assignments and the segment table; names by id."""
    outcome.assignments["segment_id"] = ids[outcome.labels].astype("int32")
    outcome.segments["segment_id"] = ids[outcome.segments["segment_id"].to_numpy() - 1]
    return {int(ids[i]): name for i, name in outcome.names.items()}


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
        ids = bundle_ids(segmentation)
        assignments["segment_id"] = ids[assignments["segment_id"].to_numpy() - 1].astype("int32")
        names = {int(ids[i]): name for i, name in segmentation["segment_names"].items()}
        _write(settings, assignments, names, saved[0])
        return SegmentRun(as_of, saved[0], saved[1], None, assignments, names)
    outcome = segment_users(frame, config)
    identity = stable_ids(settings, outcome, frame, as_of)
    names = _relabel(outcome, identity.ids)
    versions = save_segmentation(settings.models_dir, outcome, as_of, identity.ids, identity.max_segment_id)
    _write(settings, outcome.assignments, names, versions["segmentation"], outcome.segments)
    return SegmentRun(
        as_of, versions["segmentation"], versions["classifier"], outcome, outcome.assignments, names, identity
    )
