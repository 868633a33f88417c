"""Readable, deterministic segment names derived from each segment's profile.

Rules (first match wins), comparing the segment's medians with the population:
1. Fewer than 20% of the segment has ever ordered:
   "Window shoppers" if its median sessions in 90 days is at or above the population's
   median, "New visitors" if its median tenure is under the new-customer
   threshold, else "Dormant visitors".
2. Median tenure under the new-customer threshold: "New customers".
3. Median recency at or beyond the churn threshold: "Lapsed customers".
4. Median spend and median order count both at or above the population's 75th
   percentile (among buyers): "High-value loyal".
5. Median order value at or below the buyers' 30th percentile and median order count
   at or above their median: "Bargain hunters".
6. Median recency under the active threshold: "Active customers".
7. Otherwise: "Occasional customers".
When two segments earn the same name, each is suffixed with what sets it apart most
(e.g. "Active customers, higher spend"), and with a number if that still collides.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

DESCRIPTORS = {
    "monetary": ("higher spend", "lower spend"),
    "frequency": ("more orders", "fewer orders"),
    "recency_days": ("less recent", "more recent"),
    "sessions_90d": ("more browsing", "less browsing"),
    "avg_order_value": ("bigger baskets", "smaller baskets"),
    "tenure_days": ("longer tenure", "shorter tenure"),
    "refund_share": ("more refunds", "fewer refunds"),
}


def _percentile(population: pd.Series, value: float) -> float:
    population = population.dropna()
    if population.empty or pd.isna(value):
        return 0.5
    return float((population <= value).mean())


def _base_name(seg: pd.DataFrame, everyone: pd.DataFrame, thresholds: dict[str, int]) -> str:
    buyers = everyone[everyone["frequency"] > 0]
    if (seg["frequency"] > 0).mean() < 0.2:
        if _percentile(everyone["sessions_90d"], seg["sessions_90d"].median()) >= 0.5:
            return "Window shoppers"
        if seg["tenure_days"].median() < thresholds["new_customer_days"]:
            return "New visitors"
        return "Dormant visitors"
    seg_buyers = seg[seg["frequency"] > 0]
    if seg["tenure_days"].median() < thresholds["new_customer_days"]:
        return "New customers"
    if seg_buyers["recency_days"].median() >= thresholds["churn_days"]:
        return "Lapsed customers"
    spend_pct = _percentile(buyers["monetary"], seg_buyers["monetary"].median())
    freq_pct = _percentile(buyers["frequency"], seg_buyers["frequency"].median())
    if spend_pct >= 0.75 and freq_pct >= 0.75:
        return "High-value loyal"
    aov_pct = _percentile(buyers["avg_order_value"], seg_buyers["avg_order_value"].median())
    if aov_pct <= 0.3 and freq_pct >= 0.5:
        return "Bargain hunters"
    if seg_buyers["recency_days"].median() < thresholds["active_days"]:
        return "Active customers"
    return "Occasional customers"


def _distinguishing(seg: pd.DataFrame, rivals: pd.DataFrame) -> str:
    best, best_gap = "", -1.0
    for column, (higher, lower) in DESCRIPTORS.items():
        spread = float(np.nanstd(rivals[column].astype(float))) or 1.0
        gap = (seg[column].median() - rivals[column].median()) / spread
        if not np.isnan(gap) and abs(gap) > best_gap:
            best, best_gap = (higher if gap > 0 else lower), abs(gap)
    return best


def name_segments(features: pd.DataFrame, labels: np.ndarray, thresholds: dict[str, int]) -> dict[int, str]:
    segments = sorted(int(s) for s in np.unique(labels))
    base = {s: _base_name(features[labels == s], features, thresholds) for s in segments}
    names: dict[int, str] = {}
    for s in segments:
        twins = [t for t in segments if base[t] == base[s]]
        if len(twins) == 1:
            names[s] = base[s]
            continue
        rivals = features[np.isin(labels, twins) & (labels != s)]
        names[s] = f"{base[s]}, {_distinguishing(features[labels == s], rivals)}"
    counts = Counter(names.values())
    used: Counter[str] = Counter()
    for s in segments:
        name = names[s]
        if counts[name] > 1:
            used[name] += 1
            names[s] = f"{name} #{used[name]}"
    return names
