"""Privacy for published aggregates: optional Laplace noise, then small-group suppression.

Every aggregate row describes a number of users (`users`, or `rule_baskets` for rules); rows under
`privacy.min_group_size` are dropped. With `privacy.dp_epsilon` set, counts and sums get Laplace
noise first (per as-of date, seeded, so a date's figures do not change between publications), and
shares and per-user figures are recomputed from the noisy values. Rates such as repurchase_rate
are not noised: they are protected by the suppression only.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import pandas as pd

from segmentation_pipeline.config import PrivacyConfig
from segmentation_pipeline.privacy import add_laplace_noise, suppress_small_groups


@dataclass(frozen=True)
class Aggregate:
    users_column: str
    counts: tuple[str, ...]  # sensitivity 1
    sums: tuple[str, ...] = ()  # sensitivity privacy.dp_revenue_cap


AGGREGATES = {
    "segment_summary": Aggregate("users", ("users",), ("revenue_30d", "revenue_90d")),
    "rfm_summary": Aggregate("users", ("users",), ("revenue_30d", "revenue_90d")),
    "segment_migration": Aggregate("users", ("users",)),
    "segment_effects": Aggregate("users", ("users", "purchasers"), ("revenue",)),
    "segment_associations": Aggregate("rule_baskets", ("rule_baskets", "baskets")),
}


def _recompute(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Derived columns from the noisy counts and sums."""
    if table in ("segment_summary", "rfm_summary"):
        users = frame.groupby("as_of_date")["users"].transform("sum")
        frame["share"] = (frame["users"] / users).round(4)
        for days in (30, 90):
            revenue = frame.groupby("as_of_date")[f"revenue_{days}d"].transform("sum")
            frame[f"revenue_share_{days}d"] = (frame[f"revenue_{days}d"] / revenue.where(revenue > 0)).round(4)
    elif table == "segment_effects":
        users = frame["users"].where(frame["users"] > 0)
        frame["purchase_rate"] = (frame["purchasers"] / users).round(4)
        frame["revenue_per_user"] = (frame["revenue"] / users).round(2)
    elif table == "segment_associations":
        frame["support"] = (frame["rule_baskets"] / frame["baskets"].where(frame["baskets"] > 0)).round(4)
    return frame


def protect(table: str, frame: pd.DataFrame, privacy: PrivacyConfig) -> tuple[pd.DataFrame, int]:
    """Noise (when configured) and suppression for one published aggregate; returns (frame, rows suppressed)."""
    spec = AGGREGATES[table]
    if privacy.dp_epsilon and not frame.empty:
        sensitivities = {**{c: 1.0 for c in spec.counts}, **{c: privacy.dp_revenue_cap for c in spec.sums}}
        date_column = "as_of_date" if "as_of_date" in frame else None
        parts = []
        for key, part in frame.groupby(date_column, sort=True) if date_column else [("all", frame)]:
            seed = privacy.dp_seed + zlib.crc32(f"{table}/{key}".encode())
            parts.append(add_laplace_noise(part, sensitivities, privacy.dp_epsilon, seed))
        frame = _recompute(table, pd.concat(parts).sort_index())
    return suppress_small_groups(frame, spec.users_column, privacy.min_group_size)
