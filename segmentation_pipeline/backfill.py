"""Membership on past as-of dates, so a new installation shows weeks of movement on day one.

dbt rebuilds the features as of each past date into the `*_history` schemas; the model that made the
current segments assigns those users (its segment classifier, the same path as between refits) and the
current churn model scores them. Past slices therefore use today's segment definitions, which is what
makes them comparable with each other and with the nightly slices.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.analytics.history import ensure_history, replace_slice
from segmentation_pipeline.analytics.summary import record_summaries
from segmentation_pipeline.ml.artifacts import load_model
from segmentation_pipeline.ml.preprocessing import numeric_frame
from segmentation_pipeline.ml.segmentation import assign_new_users
from segmentation_pipeline.segments import (
    bundle_ids, classifier_for, load_feature_frame, model_cards, segmentation_config,
)
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection

HISTORY_SCHEMA_SUFFIX = "_history"


class BackfillError(ValueError):
    """A past date cannot be computed (after the current as-of date, or no segmentation yet)."""


def current_models(settings: Settings) -> tuple[str, str | None, date]:
    """(segmentation version, churn version or None, as-of date) of the current segments in the warehouse."""
    with warehouse_connection(settings, read_only=True) as con:
        try:
            version = con.execute("SELECT any_value(model_version) FROM ml.user_segments").fetchone()[0]
            churn = con.execute("SELECT any_value(churn_model_version) FROM ml.churn_scores").fetchone()[0]
            as_of = con.execute("SELECT max(as_of_date) FROM marts.user_features").fetchone()[0]
        except Exception as exc:  # noqa: BLE001 - a missing table means no run yet
            raise BackfillError(
                "No current segmentation in the warehouse: run segmentation_job once before backfilling history."
            ) from exc
    if version is None:
        raise BackfillError("ml.user_segments is empty: run segmentation_job once before backfilling history.")
    return version, churn, as_of


def check_dates(dates: list[date], current_as_of: date) -> None:
    late = [d for d in dates if d > current_as_of]
    if late:
        raise BackfillError(
            f"as-of date(s) {', '.join(map(str, late))} are after the current as-of date {current_as_of}: history "
            "can only be rebuilt for dates the data covers. Pick partitions up to that date."
        )


def _classifier_for(settings: Settings, segmentation_version: str) -> str:
    version = classifier_for(model_cards(settings.models_dir), segmentation_version)
    if version is None:
        raise BackfillError(f"no segment classifier saved for {segmentation_version} under {settings.models_dir}")
    return version


def past_membership(settings: Settings, as_of: date, segmentation_version: str, churn_version: str | None
                    ) -> pd.DataFrame:
    """One history slice from `marts_history.*` (built by dbt as of `as_of`)."""
    features = load_feature_frame(settings, f"marts{HISTORY_SCHEMA_SUFFIX}.user_features")
    segmentation, _ = load_model(settings.models_dir, segmentation_version)
    classifier, _ = load_model(settings.models_dir, _classifier_for(settings, segmentation_version))
    assigned = assign_new_users(segmentation["segment_model"], classifier["classifier"], features,
                                segmentation["tag_cutoffs"], segmentation_config(settings))
    ids = bundle_ids(segmentation)
    labels = assigned["segment_id"].to_numpy() - 1
    names = segmentation["segment_names"]
    slice_ = pd.DataFrame({
        "user_id": assigned["user_id"],
        "segment_id": ids[labels].astype("int32"),
        "segment_name": [names[int(i)] for i in labels],
        "value_tier": assigned["value_tier"],
        "model_version": segmentation_version,
        "churn_probability": np.nan,
    })
    if churn_version:
        churn, _ = load_model(settings.models_dir, churn_version)
        probability = churn["model"].predict_proba(numeric_frame(features, churn["features"]))[:, 1]
        slice_["churn_probability"] = np.round(np.clip(probability, 0, 1), 4)
    return slice_


def record_past_date(settings: Settings, as_of: date, segmentation_version: str, churn_version: str | None) -> int:
    slice_ = past_membership(settings, as_of, segmentation_version, churn_version)
    with warehouse_connection(settings) as con:
        ensure_history(con)
        con.register("past_slice", slice_)
        rows = replace_slice(con, "history.segment_history", as_of, f"""
            SELECT p.user_id, rfm.as_of_date, p.segment_id, p.segment_name, rfm.rfm_segment, rfm.lifecycle_stage,
                   p.value_tier, p.churn_probability, p.model_version
            FROM past_slice AS p
            JOIN marts{HISTORY_SCHEMA_SUFFIX}.user_rfm_segments AS rfm USING (user_id)
            WHERE rfm.as_of_date = DATE '{as_of}'
        """)
        con.unregister("past_slice")
        record_summaries(con, as_of, HISTORY_SCHEMA_SUFFIX)
    return rows
