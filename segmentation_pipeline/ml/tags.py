"""Per-user value tier and behaviour tags, from documented rules with every threshold in TAG_RULES.

value_tier (by total spend `monetary` among buyers = users with >= 1 completed order):
  high   = monetary >= the buyers' 80th percentile,
  medium = monetary >= the buyers' 40th percentile,
  low    = the rest of the buyers, and every user who never completed an order.

tags (a user can have several, or none):
  high_value       value_tier is high
  frequent         >= 3 completed orders and at or above the buyers' 75th percentile of orders
  new              first seen < new_customer_days ago (30)
  at_risk          a buyer whose last order is >= active_days (90) and < churn_days (180) ago, or
                   more than 2x their usual gap between orders ago (and < churn_days)
  churned          no activity at all (order, event, review, signup) for >= churn_days (180)
  discount_seeker  >= 2 orders with refund share >= 0.2, or >= the buyers' median order count
                   with order value <= the buyers' 25th percentile
  engaged_browser  >= the 75th percentile of sessions in 90 days (among users with a session)
                   and no completed order in 90 days
  unhappy_reviewer >= 1 review with mean rating <= 2.5 or sentiment score <= -0.25
The percentiles are computed on the users being tagged (fitted once with `fit_tag_cutoffs`,
so users assigned later are tagged against the same cut-offs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.ml.config import Thresholds

TAG_RULES = {
    "high_value_quantile": 0.80,
    "medium_value_quantile": 0.40,
    "frequent_quantile": 0.75,
    "frequent_min_orders": 3,
    "overdue_gap_factor": 2.0,
    "refund_share_min": 0.2,
    "refund_min_orders": 2,
    "cheap_aov_quantile": 0.25,
    "many_orders_quantile": 0.5,
    "browser_sessions_quantile": 0.75,
    "unhappy_rating_max": 2.5,
    "unhappy_sentiment_max": -0.25,
}
TAGS = ("high_value", "frequent", "new", "at_risk", "churned", "discount_seeker", "engaged_browser", "unhappy_reviewer")
TAG_COLUMNS = [
    "frequency", "monetary", "avg_order_value", "orders_90d", "recency_days", "tenure_days", "refund_share",
    "mean_days_between_orders", "days_since_last_activity", "sessions_90d", "review_count", "mean_rating",
    "sentiment_score",
]


@dataclass(frozen=True)
class TagCutoffs:
    """Population cut-offs the rules compare with (in the features' own units)."""

    high_value_monetary: float
    medium_value_monetary: float
    frequent_orders: float
    cheap_aov: float
    many_orders: float
    browser_sessions: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _col(features: pd.DataFrame, column: str, fill: float = 0.0) -> pd.Series:
    if column not in features:
        return pd.Series(fill, index=features.index, dtype="float64")
    return features[column].astype("float64")


def _q(values: pd.Series, q: float) -> float:
    values = values.dropna()
    return float(values.quantile(q)) if len(values) else 0.0


def fit_tag_cutoffs(features: pd.DataFrame) -> TagCutoffs:
    r = TAG_RULES
    buyers = features[_col(features, "frequency") > 0]
    sessions = _col(features, "sessions_90d")
    return TagCutoffs(
        high_value_monetary=_q(_col(buyers, "monetary"), r["high_value_quantile"]),
        medium_value_monetary=_q(_col(buyers, "monetary"), r["medium_value_quantile"]),
        frequent_orders=_q(_col(buyers, "frequency"), r["frequent_quantile"]),
        cheap_aov=_q(_col(buyers, "avg_order_value"), r["cheap_aov_quantile"]),
        many_orders=_q(_col(buyers, "frequency"), r["many_orders_quantile"]),
        browser_sessions=_q(sessions[sessions > 0], r["browser_sessions_quantile"]),
    )


def value_tiers(features: pd.DataFrame, cutoffs: TagCutoffs) -> np.ndarray:
    buyer = _col(features, "frequency").to_numpy() > 0
    spend = _col(features, "monetary").to_numpy()
    tier = np.where(spend >= cutoffs.medium_value_monetary, "medium", "low")
    tier = np.where(spend >= cutoffs.high_value_monetary, "high", tier)
    return np.where(buyer, tier, "low").astype(object)


def tag_flags(features: pd.DataFrame, cutoffs: TagCutoffs, thresholds: Thresholds | None = None) -> pd.DataFrame:
    """One boolean column per tag (index = features' index)."""
    t, r = thresholds or Thresholds(), TAG_RULES
    orders, recency = _col(features, "frequency"), _col(features, "recency_days", np.nan)
    gap = _col(features, "mean_days_between_orders", np.nan)
    buyer = orders > 0
    not_churned_yet = recency < t.churn_days
    reviews = _col(features, "review_count") > 0
    flags = {
        "high_value": pd.Series(value_tiers(features, cutoffs) == "high", index=features.index),
        "frequent": (orders >= r["frequent_min_orders"]) & (orders >= cutoffs.frequent_orders),
        "new": _col(features, "tenure_days") < t.new_customer_days,
        "at_risk": buyer & not_churned_yet & (
            (recency >= t.active_days) | (gap.notna() & (recency > r["overdue_gap_factor"] * gap) & (gap > 0))
        ),
        "churned": _col(features, "days_since_last_activity") >= t.churn_days,
        "discount_seeker": (
            ((orders >= r["refund_min_orders"]) & (_col(features, "refund_share") >= r["refund_share_min"]))
            | (buyer & (orders >= cutoffs.many_orders) & (_col(features, "avg_order_value") <= cutoffs.cheap_aov))
        ),
        "engaged_browser": (_col(features, "sessions_90d") >= max(cutoffs.browser_sessions, 1))
        & (_col(features, "orders_90d") == 0),
        "unhappy_reviewer": reviews & (
            (_col(features, "mean_rating", np.nan) <= r["unhappy_rating_max"])
            | (_col(features, "sentiment_score") <= r["unhappy_sentiment_max"])
        ),
    }
    return pd.DataFrame({tag: flags[tag].fillna(False).astype(bool) for tag in TAGS})


def user_tags(
    features: pd.DataFrame, cutoffs: TagCutoffs, thresholds: Thresholds | None = None
) -> pd.arrays.ArrowExtensionArray:
    """The tags of every user, as lists of strings in TAGS order.

    An Arrow list array (each item reads as a Python list): built from the flags without a Python
    list per user, and written to DuckDB as VARCHAR[] without conversion (1M users: 0.3 s, not 4 s).
    """
    flags = tag_flags(features, cutoffs, thresholds).to_numpy()
    _, tag_index = np.nonzero(flags)  # row-major: user by user, each user's tags in TAGS order
    offsets = np.zeros(len(flags) + 1, dtype=np.int32)
    np.cumsum(flags.sum(axis=1), out=offsets[1:])
    names = pa.array(np.asarray(TAGS, dtype=object)[tag_index], type=pa.string())
    return pd.arrays.ArrowExtensionArray(pa.ListArray.from_arrays(pa.array(offsets), names))
