"""Churn risk: train on features as of (as-of − H days), label from the orders that followed, score everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from segmentation_pipeline.ml.artifacts import load_model, save_churn
from segmentation_pipeline.ml.churn import COMPLETED, ChurnOutcome, score_churn, score_frame
from segmentation_pipeline.ml.config import ChurnConfig
from segmentation_pipeline.ml.preprocessing import numeric_frame
from segmentation_pipeline.segments import load_feature_frame, model_cards, recent_cards
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import replace_table, warehouse_connection

TRAIN_SCHEMA_SUFFIX = "_churn_train"
MIN_TRAINING_USERS = 100


@dataclass
class ChurnRun:
    as_of: date
    trained_as_of: date
    version: str | None
    outcome: ChurnOutcome | None
    skipped_reason: str | None = None
    scores: pd.DataFrame | None = None  # user_id, churn_probability, churn_risk (also when a saved model scored)
    card: dict | None = None  # the saved model's card, when users were scored without retraining


def current_as_of(settings: Settings) -> date:
    with warehouse_connection(settings, read_only=True) as con:
        return con.execute("SELECT max(as_of_date) FROM marts.user_features").fetchone()[0]


def training_as_of(settings: Settings) -> date:
    return current_as_of(settings) - timedelta(days=settings.config.churn.horizon_days)


def unscored(user_ids: pd.Series) -> pd.DataFrame:
    """The users with empty scores, typed as scored ones (DOUBLE, VARCHAR, VARCHAR in ml.churn_scores).
    Columns of only nulls with no type would become INTEGER columns in DuckDB."""
    index = user_ids.index
    return pd.DataFrame({
        "user_id": user_ids,
        "churn_probability": pd.Series(float("nan"), index=index, dtype="float64"),
        "churn_risk": pd.Series(None, index=index, dtype="str"),
        "churn_model_version": pd.Series(None, index=index, dtype="str"),
    })


def _write(settings: Settings, scores: pd.DataFrame) -> None:
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        replace_table(con, "ml.churn_scores", scores)


def churn_labels_sql(con: duckdb.DuckDBPyConnection, users: str, cutoff: date, horizon_days: int) -> pd.Series:
    """churned (0/1) per user of the relation `users`, indexed by user id: 1 when the user has no
    completed order on a day in (cutoff, cutoff + H]. The rule of `ml.churn.churn_labels`, computed
    in DuckDB, so the orders never move to pandas.
    """
    completed = ", ".join(f"'{status}'" for status in sorted(COMPLETED))
    labels = con.execute(
        f"""
        SELECT CAST(users.user_id AS VARCHAR) AS user_id, CAST(buyers.user_id IS NULL AS BIGINT) AS churned
        FROM {users} AS users
        LEFT JOIN (
            SELECT DISTINCT user_id FROM staging.stg_shop__orders
            WHERE CAST(ordered_at AS DATE) > ? AND CAST(ordered_at AS DATE) <= ?
              AND lower(trim(coalesce(CAST(status AS VARCHAR), ''))) IN ({completed})
        ) AS buyers ON CAST(buyers.user_id AS VARCHAR) = CAST(users.user_id AS VARCHAR)
        """,
        [cutoff, cutoff + timedelta(days=horizon_days)],
    ).fetch_df()
    return labels.set_index("user_id")["churned"].astype("int64")


def recent_churn_model(settings: Settings, as_of: date) -> dict | None:
    """The card of the newest churn model trained within churn.retrain_every_days before `as_of`
    with the configured horizon, or None (retrain) when the setting is 0 or no model qualifies."""
    churn = settings.config.churn
    if not churn.retrain_every_days:
        return None
    cards = recent_cards(model_cards(settings.models_dir), "churn", as_of, churn.retrain_every_days)
    return next((c for c in cards if c.get("metrics", {}).get("horizon_days") == churn.horizon_days), None)


def score_with_saved(settings: Settings, card: dict) -> ChurnRun:
    """Score today's users with a saved churn model (between retrains): no training features, no fit."""
    version = card["model_version"]
    bundle, _ = load_model(settings.models_dir, version)
    features = load_feature_frame(settings)
    probability = bundle["model"].predict_proba(numeric_frame(features, bundle["features"]))[:, 1]
    scores = score_frame(features["user_id"].to_numpy(), probability)
    _write(settings, scores.assign(churn_model_version=version))
    as_of = pd.Timestamp(features["as_of_date"].iloc[0]).date()
    trained_as_of = date.fromisoformat(card["data_window"]["training_features_as_of"])
    return ChurnRun(as_of, trained_as_of, version, None, scores=scores, card=card)


def run_churn(settings: Settings) -> ChurnRun:
    """Needs `marts<suffix>.user_features` built by dbt for the training date (see defs/churn.py)."""
    as_of, horizon = current_as_of(settings), settings.config.churn.horizon_days
    trained_as_of = as_of - timedelta(days=horizon)
    score_features = load_feature_frame(settings)
    train_features = load_feature_frame(settings, f"marts{TRAIN_SCHEMA_SUFFIX}.user_features")
    with warehouse_connection(settings, read_only=True) as con:
        churned = churn_labels_sql(con, f"marts{TRAIN_SCHEMA_SUFFIX}.user_features", trained_as_of, horizon)
    if len(train_features) < MIN_TRAINING_USERS or churned.nunique() < 2:
        reason = (
            f"not enough history to learn churn: {len(train_features)} users known on {trained_as_of} "
            f"({int(churned.sum())} churned); need {MIN_TRAINING_USERS} and both outcomes. "
            "churn_probability is left empty until the data covers more than the horizon "
            f"({horizon} days, churn.horizon_days in segmentation.yaml)."
        )
        _write(settings, unscored(score_features["user_id"]))
        return ChurnRun(as_of, trained_as_of, None, None, reason)
    config = ChurnConfig(horizon_days=horizon, seed=settings.config.clustering.seed,
                         threads=settings.config.engine.threads)  # engine.threads also caps the models
    outcome = score_churn(train_features, churned, score_features, config)
    version = save_churn(settings.models_dir, outcome, as_of)
    _write(settings, outcome.scores.assign(churn_model_version=version))
    return ChurnRun(as_of, trained_as_of, version, outcome, scores=outcome.scores)
