"""Churn risk, supervised from history with a time split.

Training data: `train_features` = user_features computed as of T = as_of - H days (only users
known at T), and `churned` = 1 when the user has no completed order in (T, as_of]. A
HistGradientBoostingClassifier (missing values handled natively, so never-buyers and brand-new
users need no special case) is evaluated on a held-out split of those users (ROC AUC, PR AUC,
Brier score, reliability bins) against a recency-only baseline (logistic regression on log
days without a purchase: recency, or tenure for never-buyers), then refitted on all of them.
Scoring: every user of `score_features` (user_features at as_of) gets `churn_probability` =
P(no completed order in the next H days) and `churn_risk` = high (>= 0.7), medium (>= 0.4), low.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from segmentation_pipeline.ml import plots
from segmentation_pipeline.ml.algorithms import sample_rows
from segmentation_pipeline.ml.config import ChurnConfig, SegmentationError
from segmentation_pipeline.ml.preprocessing import MODEL_FEATURES, days_without_purchase, numeric_frame

EXTRA_FEATURES = [
    "orders_30d", "spend_30d", "spend_90d", "sessions_30d", "events_30d", "events_per_session",
    "mean_days_between_orders", "favourite_category_share", "mean_rating", "sentiment_score",
    "btyd_frequency", "btyd_recency", "btyd_t", "btyd_monetary_value",
]
RISK_BANDS = ((0.7, "high"), (0.4, "medium"), (0.0, "low"))
COMPLETED = {"completed", "complete", "paid", "delivered", "shipped", ""}


def churn_labels(orders: pd.DataFrame, user_ids, cutoff: date, horizon_days: int) -> pd.Series:
    """churned (0/1) per user id: 1 when no completed order on a day in (cutoff, cutoff + H]."""
    status = orders["status"].fillna("").astype(str).str.strip().str.lower() if "status" in orders else ""
    day = pd.to_datetime(orders["ordered_at"]).dt.date
    end = cutoff + timedelta(days=horizon_days)
    window = orders[(day > cutoff) & (day <= end) & (pd.Series(status, index=orders.index).isin(COMPLETED))]
    buyers = set(window["user_id"].astype(str))
    ids = pd.Index(pd.Series(list(user_ids)).astype(str), name="user_id")
    return pd.Series([0 if u in buyers else 1 for u in ids], index=ids, name="churned", dtype="int64")


def _aligned_labels(train_features: pd.DataFrame, churned) -> np.ndarray:
    if isinstance(churned, pd.DataFrame):
        churned = churned.set_index("user_id")["churned"]
    if isinstance(churned, pd.Series) and not churned.index.equals(pd.RangeIndex(len(churned))):
        churned.index = churned.index.astype(str)
        labels = train_features["user_id"].astype(str).map(churned)
        if labels.isna().any():
            raise SegmentationError(
                f"{int(labels.isna().sum())} training users have no churn label; pass a label for every user "
                "of train_features (see churn_labels)."
            )
        return labels.astype(int).to_numpy()
    return np.asarray(churned, dtype=int)


def churn_feature_list(*frames: pd.DataFrame) -> list[str]:
    return MODEL_FEATURES + [c for c in EXTRA_FEATURES if all(c in f.columns for f in frames)]


def _gbm(config: ChurnConfig) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=config.max_iter, learning_rate=config.learning_rate,
                                          min_samples_leaf=40, l2_regularization=1.0, early_stopping=False,
                                          random_state=config.seed)


def recency_baseline() -> Pipeline:
    return Pipeline([
        ("days_without_purchase", FunctionTransformer(days_without_purchase)),
        ("scale", StandardScaler()),
        ("model", LogisticRegression()),
    ])


@dataclass
class ChurnOutcome:
    scores: pd.DataFrame  # user_id, churn_probability, churn_risk (users of score_features)
    metrics: dict[str, Any]  # held-out: ROC AUC, PR AUC, Brier, for the model and the baseline
    reliability: pd.DataFrame  # model, mean_predicted, observed_rate per bin (held-out)
    comparison: pd.DataFrame  # one row per model (gradient_boosting, recency_baseline)
    model: HistGradientBoostingClassifier  # refitted on all training users; input: `features`
    baseline: Pipeline
    features: list[str]
    config: ChurnConfig
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    plots: dict[str, bytes] = field(default_factory=dict)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(numeric_frame(features, self.features))[:, 1]


def _scores(name: str, y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"model": name, "roc_auc": roc_auc_score(y, p), "pr_auc": average_precision_score(y, p),
            "brier": brier_score_loss(y, p)}


def _reliability(name: str, y: np.ndarray, p: np.ndarray, bins: int) -> pd.DataFrame:
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    return pd.DataFrame({"model": name, "mean_predicted": predicted, "observed_rate": observed})


def risk_band(probability: np.ndarray) -> np.ndarray:
    out = np.full(len(probability), RISK_BANDS[-1][1], dtype=object)
    for cut, name in reversed(RISK_BANDS[:-1]):
        out[probability >= cut] = name
    return out


def score_frame(user_ids: np.ndarray, probability: np.ndarray) -> pd.DataFrame:
    """user_id, churn_probability (clipped to [0, 1], 4 decimals), churn_risk: the published scores."""
    return pd.DataFrame({
        "user_id": user_ids,
        "churn_probability": np.round(np.clip(probability, 0, 1), 4),
        "churn_risk": risk_band(probability),
    })


def score_churn(train_features: pd.DataFrame, churned, score_features: pd.DataFrame,
                config: ChurnConfig | None = None, seed: int | None = None) -> ChurnOutcome:
    """Train on users known at as_of - H with their outcome, evaluate, then score users at as_of."""
    config = config or ChurnConfig()
    if seed is not None:
        config = replace(config, seed=seed)
    train_features = train_features.reset_index(drop=True)
    y_all = _aligned_labels(train_features, churned)
    if len(np.unique(y_all)) < 2:
        raise SegmentationError("churn labels have a single class; a longer history or horizon is needed")
    features = churn_feature_list(train_features, score_features)
    # A feature with no value at all (e.g. ratings when no reviews were delivered) carries no
    # signal, and HistGradientBoosting cannot bin it.
    observed = numeric_frame(train_features, features).notna().any()
    features = [f for f in features if observed[f] or f in ("recency_days", "tenure_days")]
    rows = sample_rows(len(train_features), config.train_sample_size, config.seed)
    X, y = numeric_frame(train_features, features).iloc[rows].reset_index(drop=True), y_all[rows]
    fit_idx, test_idx = train_test_split(np.arange(len(y)), test_size=config.test_share, random_state=config.seed,
                                         stratify=y)
    with threadpool_limits(limits=config.threads):
        model = _gbm(config).fit(X.iloc[fit_idx], y[fit_idx])
        baseline = recency_baseline().fit(X.iloc[fit_idx][["recency_days", "tenure_days"]], y[fit_idx])
        p_model = model.predict_proba(X.iloc[test_idx])[:, 1]
        p_base = baseline.predict_proba(X.iloc[test_idx][["recency_days", "tenure_days"]])[:, 1]
        y_test = y[test_idx]
        comparison = pd.DataFrame([_scores("gradient_boosting", y_test, p_model),
                                   _scores("recency_baseline", y_test, p_base)])
        reliability = pd.concat([_reliability("gradient_boosting", y_test, p_model, config.calibration_bins),
                                 _reliability("recency_baseline", y_test, p_base, config.calibration_bins)],
                                ignore_index=True)
        shown = test_idx[sample_rows(len(test_idx), 5_000, config.seed)]
        importance = permutation_importance(model, X.iloc[shown], y[shown], scoring="roc_auc", n_repeats=3,
                                            random_state=config.seed)
        final = clone(model).fit(X, y)
        final_baseline = clone(baseline).fit(X[["recency_days", "tenure_days"]], y)
        probability = final.predict_proba(numeric_frame(score_features, features))[:, 1]
    m, b = comparison.iloc[0], comparison.iloc[1]
    metrics = {
        "horizon_days": config.horizon_days, "train_users": int(len(fit_idx)), "test_users": int(len(test_idx)),
        "churn_rate": round(float(y.mean()), 4),
        **{f"{k}": round(float(m[k]), 4) for k in ("roc_auc", "pr_auc", "brier")},
        **{f"baseline_{k}": round(float(b[k]), 4) for k in ("roc_auc", "pr_auc", "brier")},
        "scored_users": int(len(probability)),
    }
    user_ids = score_features["user_id"].to_numpy() if "user_id" in score_features else np.arange(len(probability))
    scores = score_frame(user_ids, probability)
    figures = {}
    curves = {name: (*roc_curve(y_test, p)[:2], roc_auc_score(y_test, p))
              for name, p in (("gradient boosting", p_model), ("recency only", p_base))}
    table = pd.DataFrame({"feature": features, "importance": importance.importances_mean,
                          "importance_sd": importance.importances_std})
    table = table.sort_values(["importance", "feature"], ascending=[False, True], ignore_index=True)
    if config.make_plots:
        figures = {"roc": plots.plot_roc(curves), "reliability": plots.plot_reliability(reliability),
                   "importance": plots.plot_importance(table, "Churn model: permutation importance (drop in ROC AUC)")}
    return ChurnOutcome(scores=scores, metrics=metrics, reliability=reliability, comparison=comparison,
                        model=final, baseline=final_baseline, features=features, config=config,
                        importance=table, plots=figures)
