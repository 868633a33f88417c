"""Candidate clustering families, each fitted on (a sample of) preprocessed users.

Every family returns, per K, a `Clustering`: the labels of the rows it was given and a
`predictor` whose `.predict(X)` assigns any preprocessed user, which is how the chosen model
is extended to all users.

- kmeans: k-means++ (`KMeans`, or `MiniBatchKMeans` above `minibatch_threshold` rows).
- gmm: `GaussianMixture`; a user goes to the most probable component.
- agglomerative: Ward linkage (scipy's, identical to sklearn `AgglomerativeClustering(linkage=
  "ward")`) on at most `agglomerative_sample_size` rows; one tree is cut at every K, and every
  user is assigned to the nearest segment centroid (`NearestCentroid`).
- hdbscan: sklearn `HDBSCAN` on at most `density_sample_size` rows; it finds its own K and
  leaves low-density users as noise (-1). Noise is NOT kept as a segment: segment centroids
  are computed on the non-noise users and every user, noise included, goes to the nearest
  one. The share of noise is recorded with the candidate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.cluster import HDBSCAN, KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestCentroid

from segmentation_pipeline.ml.config import SegmentationConfig


@dataclass
class Clustering:
    labels: np.ndarray  # one label per row the family was given (0..k-1)
    predictor: object  # .predict(X_preprocessed) -> labels
    noise_share: float = 0.0


def sample_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random sample of `size` of `n` rows (all rows when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _centroid_clustering(
    X: np.ndarray, fit_rows: np.ndarray, fit_labels: np.ndarray, noise: float
) -> Clustering | None:
    keep = fit_labels >= 0
    if len(np.unique(fit_labels[keep])) < 2:
        return None
    # Renumber 0..k-1 so every family returns the same kind of labels.
    _, dense = np.unique(fit_labels[keep], return_inverse=True)
    with warnings.catch_warnings():  # "zero within-class std": irrelevant to Euclidean assignment
        warnings.simplefilter("ignore", UserWarning)
        predictor = NearestCentroid().fit(X[fit_rows][keep], dense)
    return Clustering(labels=predictor.predict(X), predictor=predictor, noise_share=noise)


def fit_kmeans(X: np.ndarray, ks: list[int], seed: int, config: SegmentationConfig) -> dict[int, Clustering]:
    out = {}
    for k in ks:
        if len(X) > config.minibatch_threshold:
            model = MiniBatchKMeans(k, init="k-means++", n_init=config.kmeans_n_init, random_state=seed,
                                    batch_size=4096)
        else:
            model = KMeans(k, init="k-means++", n_init=config.kmeans_n_init, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        out[k] = Clustering(labels=model.predict(X), predictor=model)
    return out


def fit_gmm(X: np.ndarray, ks: list[int], seed: int, config: SegmentationConfig) -> dict[int, Clustering]:
    out = {}
    for k in ks:
        model = GaussianMixture(k, covariance_type=config.gmm_covariance, reg_covar=1e-4, max_iter=200,
                                n_init=1, init_params="k-means++", random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        out[k] = Clustering(labels=model.predict(X), predictor=model)
    return out


def fit_agglomerative(X: np.ndarray, ks: list[int], seed: int, config: SegmentationConfig) -> dict[int, Clustering]:
    rows = sample_rows(len(X), config.agglomerative_sample_size, seed)
    tree = linkage(X[rows], method="ward")
    out = {}
    for k in ks:
        fitted = _centroid_clustering(X, rows, fcluster(tree, k, criterion="maxclust") - 1, 0.0)
        if fitted is not None:
            out[k] = fitted
    return out


def fit_hdbscan(X: np.ndarray, ks: list[int], seed: int, config: SegmentationConfig) -> dict[int, Clustering]:
    rows = sample_rows(len(X), config.density_sample_size, seed)
    min_size = max(10, int(round(config.hdbscan_min_cluster_share * len(rows))))
    labels = HDBSCAN(min_cluster_size=min_size, copy=True).fit(X[rows]).labels_
    fitted = _centroid_clustering(X, rows, labels, float(np.mean(labels < 0)))
    return {} if fitted is None else {len(fitted.predictor.classes_): fitted}


FAMILIES = {
    "kmeans": fit_kmeans,
    "gmm": fit_gmm,
    "agglomerative": fit_agglomerative,
    "hdbscan": fit_hdbscan,
}


def fit_family(
    algorithm: str, X: np.ndarray, ks: list[int], seed: int, config: SegmentationConfig
) -> dict[int, Clustering]:
    """Fit one family at every K of `ks` (HDBSCAN ignores `ks` and returns the K it found)."""
    return FAMILIES[algorithm](X, ks, seed, config)
