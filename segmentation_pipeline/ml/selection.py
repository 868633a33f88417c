"""Choose the clustering algorithm and K automatically, by measured quality.

Every (algorithm, K) candidate is fitted on the preprocessed selection sample and scored on:
- silhouette (higher is better; on a random sub-sample of `silhouette_sample_size` users),
- Davies-Bouldin index (lower is better), Calinski-Harabasz index (higher is better),
- elbow: distance |K - knee| to the knee of the algorithm's inertia-vs-K curve (lower is better),
- stability: mean adjusted Rand index between the candidate and `stability_refits` refits of the
  same algorithm on random subsamples (`stability_fraction` of the sample), all labelling the
  same users (higher is better).

Rule. A candidate is eligible when it has the requested number of segments (for HDBSCAN: a K
inside [k_min, k_max]), no segment smaller than `min_segment_share` of users, and stability at
least `stability_floor` (if no candidate reaches the floor, the floor is dropped). Each criterion
ranks the eligible candidates (percentile rank, 1 = best); the score is the mean of the five
ranks (a missing criterion, e.g. the elbow of HDBSCAN, is left out of the mean). The highest
score wins; ties go to the more stable, then the smaller K, then the algorithm listed first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from segmentation_pipeline.ml.algorithms import Clustering, fit_family, sample_rows
from segmentation_pipeline.ml.config import SegmentationConfig, SegmentationError
from segmentation_pipeline.ml.metrics import Silhouette, cluster_quality, knee_point, mean_ari

# criterion -> True when higher is better
CRITERIA = {
    "silhouette": True,
    "davies_bouldin": False,
    "calinski_harabasz": True,
    "knee_distance": False,
    "stability": True,
}
RULE = (
    "eligible = requested K, smallest segment >= min_segment_share, stability >= stability_floor; "
    "score = mean percentile rank of silhouette, -Davies-Bouldin, Calinski-Harabasz, -|K - knee|, "
    "stability; highest score wins (ties: stability, smaller K, algorithm order)"
)


@dataclass
class SelectionResult:
    algorithm: str
    k: int
    clustering: Clustering  # the chosen candidate, fitted on the selection sample
    candidates: pd.DataFrame  # one row per (algorithm, K) with every score
    rule: str = RULE


def _stability(
    algorithm: str, X: np.ndarray, fitted: dict[int, Clustering], config: SegmentationConfig
) -> dict[int, float]:
    refit_labels: dict[int, list[np.ndarray]] = {k: [] for k in fitted}
    size = max(int(config.stability_fraction * len(X)), min(len(X), 10))
    for b in range(config.stability_refits):
        seed = config.seed + 1 + b
        rows = sample_rows(len(X), size, seed)
        refit = fit_family(algorithm, X[rows], config.k_values, seed, config)
        for k in fitted:
            # HDBSCAN picks its own K: compare with whatever it found this time.
            match = refit.get(k) or (next(iter(refit.values()), None) if algorithm == "hdbscan" else None)
            refit_labels[k].append(match.predictor.predict(X) if match else np.zeros(len(X), dtype=int))
    return {k: mean_ari(fitted[k].labels, refit_labels[k]) for k in fitted}


def _fit_with_refits(
    algorithm: str, X: np.ndarray, config: SegmentationConfig
) -> tuple[dict[int, Clustering], dict[int, float], float]:
    """One family at every K, its stability refits, and the wall seconds per candidate."""
    with threadpool_limits(limits=config.threads):  # OpenMP limits are per thread
        started = time.perf_counter()
        fitted = fit_family(algorithm, X, config.k_values, config.seed, config)
        stability = _stability(algorithm, X, fitted, config) if config.stability_refits else {}
    return fitted, stability, (time.perf_counter() - started) / max(len(fitted), 1)


def evaluate_candidates(
    X: np.ndarray, config: SegmentationConfig
) -> tuple[pd.DataFrame, dict[tuple[str, int], Clustering]]:
    eval_rows = sample_rows(len(X), config.silhouette_sample_size, config.seed)
    silhouette = Silhouette(X[eval_rows])
    rows, fitted_all = [], {}
    # The families are independent seeded fits: fitting them a few at a time gives the same candidates.
    with Parallel(n_jobs=config.parallel_fits, backend="threading") as parallel:
        families = parallel(delayed(_fit_with_refits)(algorithm, X, config) for algorithm in config.active_algorithms)
    for algorithm, (fitted, stability, seconds) in zip(config.active_algorithms, families):
        if not fitted:
            rows.append({"algorithm": algorithm, "k": np.nan, "reason": "found fewer than 2 segments"})
        for k, clustering in fitted.items():
            fitted_all[(algorithm, k)] = clustering
            rows.append({
                "algorithm": algorithm,
                "k": k,
                **cluster_quality(X, clustering.labels, eval_rows, silhouette),
                "stability": stability.get(k, np.nan),
                "noise_share": clustering.noise_share,
                "fit_seconds": round(seconds, 3),
            })
    candidates = pd.DataFrame(rows)
    for column in ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "stability", "n_segments",
                   "min_share", "noise_share", "fit_seconds", "reason"):
        if column not in candidates:
            candidates[column] = np.nan
    candidates["knee_k"] = np.nan
    for algorithm, group in candidates.dropna(subset=["k"]).groupby("algorithm", sort=False):
        knee = knee_point(group["k"].astype(int).tolist(), group["inertia"].tolist())
        if knee is not None and algorithm != "hdbscan":
            candidates.loc[group.index, "knee_k"] = knee
    candidates["knee_distance"] = (candidates["k"] - candidates["knee_k"]).abs()
    return candidates, fitted_all


def choose(candidates: pd.DataFrame, config: SegmentationConfig) -> pd.DataFrame:
    """Add `eligible`, `reason`, `score` and `chosen` columns following RULE."""
    out = candidates.copy()
    reason = out["reason"].astype(object).where(out["reason"].notna(), "")
    in_range = out["k"].between(config.k_values[0], config.k_values[-1])
    right_k = np.where(out["algorithm"] == "hdbscan", in_range, out["k"] == out["n_segments"])
    reason = reason.where(right_k | (reason != ""), "K outside the requested range")
    reason = reason.where(out["silhouette"].notna() | (reason != ""), "no quality score")
    small = out["min_share"] < config.min_segment_share
    reason = reason.where(~small | (reason != ""), "a segment is smaller than min_segment_share")
    valid = reason == ""
    unstable = out["stability"] < config.stability_floor
    if (valid & ~unstable).any():
        reason = reason.where(~(valid & unstable), "below the stability floor")
    if not (reason == "").any():  # nothing qualifies: rank every scored candidate rather than fail
        reason = reason.where(out["silhouette"].isna(), "")
    out["reason"] = reason
    out["eligible"] = reason == ""
    ranks = pd.DataFrame(index=out.index)
    eligible = out[out["eligible"]]
    for criterion, higher in CRITERIA.items():
        ranks[criterion] = eligible[criterion].rank(pct=True, ascending=higher)
    out["score"] = ranks.mean(axis=1, skipna=True)
    out["chosen"] = False
    if not out["eligible"].any():
        raise SegmentationError("no clustering candidate could be fitted; the users are all alike")
    order = {a: i for i, a in enumerate(config.active_algorithms)}
    best = min(
        out.index[out["eligible"]],
        key=lambda i: (-round(out.at[i, "score"], 9), -round(np.nan_to_num(out.at[i, "stability"]), 9),
                       out.at[i, "k"], order[out.at[i, "algorithm"]]),
    )
    out.loc[best, "chosen"] = True
    return out


def select_clustering(X: np.ndarray, config: SegmentationConfig) -> SelectionResult:
    """Fit every candidate on the preprocessed sample `X` and return the chosen one."""
    if len(X) < config.k_values[0] + 1:
        raise SegmentationError(
            f"{len(X)} users; clustering needs at least {config.k_values[0] + 1}. "
            "Load more data or lower k_min."
        )
    with threadpool_limits(limits=config.threads):
        candidates, fitted = evaluate_candidates(X, config)
    candidates = choose(candidates, config)
    chosen = candidates[candidates["chosen"]].iloc[0]
    key = (chosen["algorithm"], int(chosen["k"]))
    candidates["k"] = candidates["k"].astype("Int64")
    return SelectionResult(algorithm=key[0], k=key[1], clustering=fitted[key], candidates=candidates)
