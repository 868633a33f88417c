"""Readable, deterministic segment names derived from each segment's profile (never from its id).

A segment is described by the medians of its users; "pXX among buyers" means the share of all
buyers (users with >= 1 completed order) at or below that median. Rules, first match wins:

1. Fewer than 20% of the segment ever completed an order ("mostly non-buyers"):
   a. median tenure < new_customer_days                              -> "New visitors"
   b. median days since last activity >= churn_days                  -> "Dormant visitors"
   c. median sessions in 90 days >= the population median            -> "Window shoppers"
   d. otherwise                                                      -> "Occasional visitors"
2. Median tenure < new_customer_days                                 -> "New customers"
3. Median recency of its buyers >= churn_days                        -> "Lapsed customers"
4. Median spend and median order count both >= p75 among buyers      -> "High-value loyal"
5. Median order count >= p50 among buyers, and median order value <= p30 among buyers or
   median refund share >= 0.15                                       -> "Bargain hunters"
6. Median recency of its buyers >= active_days                       -> "At-risk customers"
7. Median spend >= p50 among buyers                                  -> "Active customers"
8. Otherwise                                                         -> "Occasional customers"

The day thresholds are the lifecycle thresholds (new_customer_days 30, active_days 90,
churn_days 180 by default). When two segments earn the same name, each gets the trait that
sets it apart most from the others with that name (e.g. "Active customers, higher spend");
a number is appended only if that still collides, so names are unique within a run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.ml.config import Thresholds

MOSTLY_NON_BUYERS = 0.2  # share of users with an order below which a segment is "mostly non-buyers"
HIGH_QUANTILE = 0.75
MID_QUANTILE = 0.5
LOW_AOV_QUANTILE = 0.3
HIGH_REFUND_SHARE = 0.15

DESCRIPTORS = {
    "monetary": ("higher spend", "lower spend"),
    "frequency": ("more orders", "fewer orders"),
    "recency_days": ("less recent", "more recent"),
    "sessions_90d": ("more browsing", "less browsing"),
    "avg_order_value": ("bigger baskets", "smaller baskets"),
    "tenure_days": ("longer tenure", "shorter tenure"),
    "refund_share": ("more refunds", "fewer refunds"),
}


@dataclass(frozen=True)
class SegmentName:
    name: str
    rule: str  # which rule fired, in words
    description: str  # the profile figures behind the name


def _thresholds(thresholds: Thresholds | dict[str, Any] | None) -> Thresholds:
    if thresholds is None:
        return Thresholds()
    if isinstance(thresholds, Thresholds):
        return thresholds
    return Thresholds(**{k: int(v) for k, v in thresholds.items() if k in Thresholds.__dataclass_fields__})


def _pct(population: pd.Series, value: float) -> float:
    population = population.dropna()
    if population.empty or pd.isna(value):
        return 0.5
    return float((population <= value).mean())


def _median(frame: pd.DataFrame, column: str) -> float:
    if column not in frame or frame.empty:
        return float("nan")
    return float(frame[column].astype("float64").median())


def _base_name(seg: pd.DataFrame, everyone: pd.DataFrame, t: Thresholds) -> tuple[str, str]:
    buyers = everyone[everyone["frequency"] > 0]
    seg_buyers = seg[seg["frequency"] > 0]
    tenure = _median(seg, "tenure_days")
    if (seg["frequency"] > 0).mean() < MOSTLY_NON_BUYERS:
        if tenure < t.new_customer_days:
            return "New visitors", f"mostly non-buyers, median tenure < {t.new_customer_days} days"
        if _median(seg, "days_since_last_activity") >= t.churn_days:
            return "Dormant visitors", f"mostly non-buyers, no activity for >= {t.churn_days} days"
        if _median(seg, "sessions_90d") >= _median(everyone, "sessions_90d"):
            return "Window shoppers", "mostly non-buyers who browse at least as much as the median user"
        return "Occasional visitors", "mostly non-buyers who browse little"
    if tenure < t.new_customer_days:
        return "New customers", f"median tenure < {t.new_customer_days} days"
    recency = _median(seg_buyers, "recency_days")
    if recency >= t.churn_days:
        return "Lapsed customers", f"median days since last order >= {t.churn_days}"
    spend = _pct(buyers["monetary"], _median(seg_buyers, "monetary"))
    orders = _pct(buyers["frequency"], _median(seg_buyers, "frequency"))
    if spend >= HIGH_QUANTILE and orders >= HIGH_QUANTILE:
        return "High-value loyal", "median spend and orders in the top quarter of buyers"
    aov = _pct(buyers["avg_order_value"], _median(seg_buyers, "avg_order_value"))
    if orders >= MID_QUANTILE and (aov <= LOW_AOV_QUANTILE or _median(seg_buyers, "refund_share") >= HIGH_REFUND_SHARE):
        return "Bargain hunters", "many orders with small baskets or many refunds"
    if recency >= t.active_days:
        return "At-risk customers", f"median days since last order between {t.active_days} and {t.churn_days}"
    if spend >= MID_QUANTILE:
        return "Active customers", f"ordered within {t.active_days} days, spend above the buyers' median"
    return "Occasional customers", "recent buyers with below-median spend"


def describe(seg: pd.DataFrame, everyone: pd.DataFrame) -> str:
    """One line of the figures behind a segment's name."""
    buyers = seg[seg["frequency"] > 0]
    parts = [f"{len(seg) / max(len(everyone), 1):.0%} of users", f"{(seg['frequency'] > 0).mean():.0%} ever ordered"]
    if not buyers.empty:
        parts.append(
            f"buyers' medians: {_median(buyers, 'frequency'):.0f} orders, {_median(buyers, 'monetary'):,.0f} spent, "
            f"order value {_median(buyers, 'avg_order_value'):,.0f}, "
            f"last order {_median(buyers, 'recency_days'):.0f} days ago"
        )
    parts.append(f"median {_median(seg, 'sessions_90d'):.0f} sessions in 90 days, "
                 f"tenure {_median(seg, 'tenure_days'):.0f} days")
    return "; ".join(parts)


def _distinguishing(seg: pd.DataFrame, rivals: pd.DataFrame) -> str:
    best, best_gap = "", -1.0
    for column, (higher, lower) in DESCRIPTORS.items():
        if column not in seg:
            continue
        spread = float(np.nanstd(rivals[column].astype("float64"))) or 1.0
        gap = (_median(seg, column) - _median(rivals, column)) / spread
        if not np.isnan(gap) and abs(gap) > best_gap:
            best, best_gap = (higher if gap > 0 else lower), abs(gap)
    return best


def explain_names(
    features: pd.DataFrame, labels: np.ndarray, thresholds: Thresholds | dict | None = None
) -> dict[int, SegmentName]:
    """Name, rule and description per segment label; names are unique."""
    t = _thresholds(thresholds)
    features = features.reset_index(drop=True)
    labels = np.asarray(labels)
    segments = sorted(int(s) for s in np.unique(labels))
    base = {s: _base_name(features[labels == s], features, t) for s in segments}
    names: dict[int, str] = {}
    for s in segments:
        twins = [o for o in segments if base[o][0] == base[s][0]]
        if len(twins) == 1:
            names[s] = base[s][0]
            continue
        rivals = features[np.isin(labels, twins) & (labels != s)]
        trait = _distinguishing(features[labels == s], rivals)
        names[s] = f"{base[s][0]}, {trait}" if trait else base[s][0]
    counts, used = Counter(names.values()), Counter()
    for s in segments:
        if counts[names[s]] > 1:
            used[names[s]] += 1
            names[s] = f"{names[s]} #{used[names[s]]}"
    return {s: SegmentName(names[s], base[s][1], describe(features[labels == s], features)) for s in segments}


def name_segments(
    features: pd.DataFrame, labels: np.ndarray, thresholds: Thresholds | dict | None = None
) -> dict[int, str]:
    """Segment label -> unique readable name (see the module docstring for the rules)."""
    return {s: named.name for s, named in explain_names(features, labels, thresholds).items()}


def names_table(named: dict[int, SegmentName]) -> pd.DataFrame:
    return pd.DataFrame([{"segment": s, **asdict(n)} for s, n in sorted(named.items())])
