"""Which `user_features` columns feed the models, and the one fitted preprocessing pipeline.

Steps (fitted once on the selection sample, saved, reused to assign every user):
1. numbers as float (nullable integers from DuckDB become NaN);
2. impute: counts, money and rates missing -> 0; two columns are undefined for users who never
   completed an order and are imputed so that they do not just repeat "has bought" (which
   frequency and monetary already say):
   - `recency_days` (NULL) becomes "days without a purchase" = recency_days, or tenure_days when
     the user never bought (seen 400 days ago, never bought: 400 days without buying), capped
     at RECENCY_CAP_DAYS;
   - `avg_order_value` (0 by definition) is set to the buyers' median (fitted), so it only
     separates buyers by basket size;
3. log1p of heavy-tailed counts, money and day counts (a few whales must not define the space);
4. winsorise: clip every column at its fitted 1st / 99th percentile (`QuantileClipper`);
5. standardise (mean 0, sd 1); 6. optional PCA (`pca_components`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

LOG_FEATURES = [
    "frequency",
    "monetary",
    "orders_90d",
    "sessions_90d",
    "events_90d",
    "tenure_days",
    "review_count",
    "days_since_last_activity",
]
AOV_FEATURE = "avg_order_value"
FREQUENCY_FEATURE = "frequency"
RECENCY_FEATURE = "recency_days"
TENURE_FEATURE = "tenure_days"
RECENCY_CAP_DAYS = 730
RATE_FEATURES = ["refund_share", "add_to_cart_rate", "purchase_conversion_rate"]

MODEL_FEATURES = [*LOG_FEATURES, AOV_FEATURE, RECENCY_FEATURE, *RATE_FEATURES]
# Columns used for profiles, names, tags and explanations besides MODEL_FEATURES (all in user_features).
PROFILE_FEATURES = [
    *MODEL_FEATURES,
    "orders_30d",
    "spend_90d",
    "sessions_30d",
    "mean_days_between_orders",
    "mean_rating",
    "sentiment_score",
]
# Columns that are genuinely integers (for readable rule thresholds).
INTEGER_FEATURES = {
    "frequency", "orders_30d", "orders_90d", "sessions_30d", "sessions_90d", "events_90d",
    "tenure_days", "review_count", "days_since_last_activity", "recency_days",
}


def numeric_frame(features: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """The given columns as float64 (pd.NA -> NaN), index reset; missing columns raise KeyError."""
    columns = list(columns or MODEL_FEATURES)
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise KeyError(f"user_features is missing column(s) {missing}")
    return features[columns].astype("float64").reset_index(drop=True)


def _as_float(values) -> np.ndarray:
    return pd.DataFrame(values).astype("float64").to_numpy()


def _log1p_nonnegative(values: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(values, 0, None))


def days_without_purchase(values: np.ndarray) -> np.ndarray:
    """Columns (recency_days, tenure_days) -> log1p(recency, or tenure if never bought, capped)."""
    values = _as_float(values)
    recency, tenure = values[:, 0], np.nan_to_num(values[:, 1], nan=RECENCY_CAP_DAYS)
    days = np.where(np.isnan(recency), tenure, recency)
    return np.log1p(np.clip(days, 0, RECENCY_CAP_DAYS)).reshape(-1, 1)


def aov_of_buyers(values: np.ndarray) -> np.ndarray:
    """Columns (avg_order_value, frequency) -> avg_order_value, NaN for users with no completed order."""
    values = _as_float(values)
    return np.where(np.nan_to_num(values[:, 1]) > 0, values[:, 0], np.nan).reshape(-1, 1)


def _aov_name(transformer, names) -> list[str]:
    return [AOV_FEATURE]


def _days_name(transformer, names) -> list[str]:
    return ["days_without_purchase"]


class QuantileClipper(TransformerMixin, BaseEstimator):
    """Winsorise: clip each column at its fitted `lower` / `upper` quantiles."""

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        self.lower = lower
        self.upper = upper

    def fit(self, X, y=None):
        X = _as_float(X)
        self.n_features_in_ = X.shape[1]
        self.low_ = np.nanquantile(X, self.lower, axis=0) if len(X) else np.zeros(X.shape[1])
        self.high_ = np.nanquantile(X, self.upper, axis=0) if len(X) else np.zeros(X.shape[1])
        return self

    def transform(self, X):
        check_is_fitted(self, "low_")
        return np.clip(_as_float(X), self.low_, self.high_)

    def get_feature_names_out(self, input_features=None):
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        return np.asarray(input_features)


def _branch(fill: float, log: bool) -> Pipeline:
    steps = [
        ("float", FunctionTransformer(_as_float, feature_names_out="one-to-one")),
        ("impute", SimpleImputer(strategy="constant", fill_value=fill, keep_empty_features=True)),
    ]
    if log:
        steps.append(("log1p", FunctionTransformer(_log1p_nonnegative, feature_names_out="one-to-one")))
    return Pipeline(steps)


def build_preprocessor(
    winsor_quantiles: tuple[float, float] | None = (0.01, 0.99),
    pca_components: int | float | None = None,
    seed: int = 42,
) -> Pipeline:
    """The preprocessing Pipeline over MODEL_FEATURES (see the module docstring)."""
    columns = ColumnTransformer(
        [
            ("log", _branch(0.0, log=True), LOG_FEATURES),
            ("aov", Pipeline([
                ("buyers", FunctionTransformer(aov_of_buyers, feature_names_out=_aov_name)),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("log1p", FunctionTransformer(_log1p_nonnegative, feature_names_out="one-to-one")),
            ]), [AOV_FEATURE, FREQUENCY_FEATURE]),
            ("recency", FunctionTransformer(days_without_purchase, feature_names_out=_days_name),
             [RECENCY_FEATURE, TENURE_FEATURE]),
            ("rates", _branch(0.0, log=False), RATE_FEATURES),
        ],
        verbose_feature_names_out=False,
    )
    steps: list[tuple[str, object]] = [("columns", columns)]
    if winsor_quantiles is not None:
        steps.append(("winsorise", QuantileClipper(*winsor_quantiles)))
    steps.append(("scale", StandardScaler()))
    if pca_components is not None:
        steps.append(("pca", PCA(n_components=pca_components, random_state=seed)))
    return Pipeline(steps)


def transformed_feature_names(preprocessor: Pipeline) -> list[str]:
    """Names of the columns the fitted preprocessor outputs (PCA components as pc1, pc2, ...)."""
    if "pca" in preprocessor.named_steps:
        return [f"pc{i + 1}" for i in range(preprocessor.named_steps["pca"].n_components_)]
    return list(preprocessor.named_steps["columns"].get_feature_names_out())
