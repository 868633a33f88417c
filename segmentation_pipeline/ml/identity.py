"""Stable segment ids across re-clusterings.

When the clustering is refitted, the previous model assigns today's users too; each new segment
takes the id of the previous segment it shares the most users with (Hungarian matching on the
overlap table), so "segment 3" keeps its meaning overnight. A new segment that matches nothing
gets a fresh id above every id used before; a matched segment whose membership changed a lot
(Jaccard overlap below `min_jaccard`) keeps the id but is reported as "changed".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment


@dataclass
class SegmentMatch:
    ids: np.ndarray  # segment index 0..k-1 -> stable segment_id
    report: pd.DataFrame  # segment_id, previous_segment_id, users, previous_users, shared_users, jaccard, status
    retired: list[int]  # previous ids no new segment took over
    max_segment_id: int  # highest id ever used, for the next refit

    def changes(self) -> pd.DataFrame:
        """Segments whose meaning moved since the previous model (empty on a first fit)."""
        return self.report[self.report["status"].isin(["changed", "new"])]


def first_ids(k: int) -> SegmentMatch:
    """No previous model: ids 1..k in the model's own order (1 = largest)."""
    ids = np.arange(1, k + 1)
    report = pd.DataFrame({"segment_id": ids, "previous_segment_id": pd.array([None] * k, dtype="Int64"),
                           "status": "first fit"})
    return SegmentMatch(ids, report, [], k)


def match_segments(previous_ids: np.ndarray, labels: np.ndarray, k: int, max_segment_id: int = 0,
                   min_jaccard: float = 0.5) -> SegmentMatch:
    """Map new segment indices (`labels`, 0..k-1) to stable ids, given each user's id under the previous model."""
    previous_ids, labels = np.asarray(previous_ids, dtype=int), np.asarray(labels, dtype=int)
    old = np.unique(previous_ids)
    shared = np.zeros((k, len(old)), dtype=np.int64)
    np.add.at(shared, (labels, np.searchsorted(old, previous_ids)), 1)
    new_sizes, old_sizes = shared.sum(axis=1), shared.sum(axis=0)
    rows, cols = linear_sum_assignment(-shared)
    ids = np.zeros(k, dtype=int)
    next_id = max(int(max_segment_id), int(old.max(initial=0)))
    records = []
    matched = {r: c for r, c in zip(rows, cols) if shared[r, c] > 0}
    for s in range(k):
        if s in matched:
            c = matched[s]
            inter = int(shared[s, c])
            jaccard = inter / (new_sizes[s] + old_sizes[c] - inter)
            ids[s] = int(old[c])
            records.append((ids[s], int(old[c]), int(new_sizes[s]), int(old_sizes[c]), inter, round(jaccard, 4),
                            "kept" if jaccard >= min_jaccard else "changed"))
        else:
            next_id += 1
            ids[s] = next_id
            records.append((next_id, None, int(new_sizes[s]), None, 0, 0.0, "new"))
    report = pd.DataFrame(records, columns=["segment_id", "previous_segment_id", "users", "previous_users",
                                            "shared_users", "jaccard", "status"])
    report["previous_segment_id"] = report["previous_segment_id"].astype("Int64")
    report["previous_users"] = report["previous_users"].astype("Int64")
    retired = sorted(int(old[c]) for c in range(len(old)) if c not in set(matched.values()))
    return SegmentMatch(ids, report, retired, max(next_id, int(ids.max(initial=0))))
