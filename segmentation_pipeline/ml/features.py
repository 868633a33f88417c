"""Which `user_features` columns feed the clustering, and how they are preprocessed."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

# Heavy-tailed counts and money: log1p before scaling so a few whales do not define the space.
LOG_FEATURES = [
    "frequency",
    "monetary",
    "avg_order_value",
    "orders_90d",
    "sessions_90d",
    "events_90d",
    "tenure_days",
    "review_count",
]
# Recency is undefined for users who never ordered; they are placed at the cap (two years).
RECENCY_FEATURE = "recency_days"
RECENCY_CAP_DAYS = 730
RATE_FEATURES = ["refund_share", "add_to_cart_rate", "purchase_conversion_rate"]

MODEL_FEATURES = [*LOG_FEATURES, RECENCY_FEATURE, *RATE_FEATURES]


def _cap_recency(values: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(values, 0, RECENCY_CAP_DAYS))


def _log1p_nonnegative(values: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(values, 0, None))


def build_preprocessor() -> Pipeline:
    """Impute, log-transform, scale: fitted once and reused for assignment."""
    columns = ColumnTransformer(
        [
            (
                "log",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=0.0)),
                        ("log1p", FunctionTransformer(_log1p_nonnegative, feature_names_out="one-to-one")),
                    ]
                ),
                LOG_FEATURES,
            ),
            (
                "recency",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=float(RECENCY_CAP_DAYS))),
                        ("log1p", FunctionTransformer(_cap_recency, feature_names_out="one-to-one")),
                    ]
                ),
                [RECENCY_FEATURE],
            ),
            ("rates", SimpleImputer(strategy="constant", fill_value=0.0), RATE_FEATURES),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("columns", columns), ("scale", StandardScaler())])
