"""Settings of the ML core, with defaults; `segmentation.yaml` is mapped onto these by the caller."""

from __future__ import annotations

import os

from dataclasses import dataclass, field

ALGORITHMS = ("kmeans", "gmm", "agglomerative", "hdbscan")


class SegmentationError(ValueError):
    """The feature table cannot be segmented (e.g. too few users, unknown algorithm)."""


@dataclass(frozen=True)
class Thresholds:
    """Day thresholds shared with dbt's lifecycle_stage (`lifecycle` in segmentation.yaml)."""

    new_customer_days: int = 30
    active_days: int = 90
    churn_days: int = 180


@dataclass(frozen=True)
class SegmentationConfig:
    k_min: int = 2
    k_max: int = 8
    algorithms: tuple[str, ...] = ALGORITHMS
    pinned_k: int | None = None  # fit exactly this K (HDBSCAN, which picks its own K, is then skipped)
    pinned_algorithm: str | None = None  # fit only this algorithm
    seed: int = 42
    # Sizes: candidates are fitted on a random sample, then every user is assigned by the chosen model.
    selection_sample_size: int = 20_000
    silhouette_sample_size: int = 5_000  # silhouette is O(n^2): measured on a sub-sample (<= 10k)
    agglomerative_sample_size: int = 5_000  # Ward needs O(n^2) memory: fitted on at most this many users
    density_sample_size: int = 5_000  # HDBSCAN sample
    minibatch_threshold: int = 50_000  # MiniBatchKMeans instead of KMeans above this many users
    kmeans_n_init: int = 4
    gmm_covariance: str = "full"
    hdbscan_min_cluster_share: float = 0.02  # smallest density cluster, as a share of its sample
    # Stability: refits on random subsamples, compared with the candidate by adjusted Rand index.
    stability_refits: int = 3
    stability_fraction: float = 0.8
    stability_floor: float = 0.75  # candidates less stable than this are not chosen (unless none pass)
    min_segment_share: float = 0.01  # candidates with a segment smaller than this share are not chosen
    # Preprocessing.
    winsor_quantiles: tuple[float, float] = (0.01, 0.99)
    pca_components: int | float | None = None  # e.g. 0.95 keeps 95% of the variance; None = no PCA
    # Classifier / explanation.
    classifier_sample_size: int = 20_000
    classifier_folds: int = 5
    test_share: float = 0.25
    surrogate_depth: int = 4
    importance_repeats: int = 5
    importance_sample_size: int = 5_000
    thresholds: Thresholds = field(default_factory=Thresholds)
    make_plots: bool = True
    plot_sample_size: int = 5_000
    threads: int = 1  # BLAS/OpenMP threads; 1 avoids oversubscription and keeps KMeans' sums in one order
    # Independent fits run at once, each on `threads` threads: clustering families, classifier CV folds
    # (None: one per core). Results do not depend on it.
    fit_jobs: int | None = None

    @property
    def parallel_fits(self) -> int:
        """How many independent fits run at once: fit_jobs, or one per core."""
        return self.fit_jobs or os.cpu_count() or 1

    def __post_init__(self) -> None:
        if self.k_min < 2 or self.k_max < self.k_min:
            raise SegmentationError(f"need 2 <= k_min <= k_max, got k_min={self.k_min}, k_max={self.k_max}")
        unknown = [a for a in (*self.algorithms, self.pinned_algorithm) if a and a not in ALGORITHMS]
        if unknown:
            raise SegmentationError(f"unknown algorithm(s) {unknown}; choose from {list(ALGORITHMS)}")
        if self.pinned_k is not None and self.pinned_k < 2:
            raise SegmentationError(f"pinned_k must be >= 2, got {self.pinned_k}")
        if self.pinned_k is not None and self.pinned_algorithm == "hdbscan":
            raise SegmentationError(
                "hdbscan chooses its own number of segments: unset pinned_k or pick another algorithm"
            )

    @property
    def k_values(self) -> list[int]:
        if self.pinned_k is not None:
            return [self.pinned_k]
        return list(range(self.k_min, self.k_max + 1))

    @property
    def active_algorithms(self) -> list[str]:
        if self.pinned_algorithm:
            return [self.pinned_algorithm]
        algorithms = list(self.algorithms)
        if self.pinned_k is not None and "hdbscan" in algorithms:
            algorithms.remove("hdbscan")  # density clustering cannot be told how many segments to find
        return algorithms


@dataclass(frozen=True)
class ChurnConfig:
    horizon_days: int = 90  # H: churned = no completed order in the H days after the training date
    seed: int = 42
    test_share: float = 0.25
    train_sample_size: int = 200_000
    max_iter: int = 300
    learning_rate: float = 0.06
    calibration_bins: int = 10
    make_plots: bool = True
    # OpenMP threads for the gradient boosting (None: every core). The job runs one step at a time
    # (in-process executor), and the model is the same for any thread count (tests/test_ml_demo.py).
    threads: int | None = None
