"""Figures as PNG bytes (matplotlib Agg, no pyplot state); ml/markdown.py embeds them in Dagster metadata."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from segmentation_pipeline.ml.algorithms import sample_rows  # noqa: E402

SELECTION_PANELS = [
    ("silhouette", "silhouette (higher is better)"),
    ("davies_bouldin", "Davies-Bouldin (lower is better)"),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)"),
    ("inertia", "inertia (elbow)"),
    ("stability", "stability, mean ARI (higher is better)"),
    ("score", "selection score (rank average)"),
]


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def plot_selection(candidates: pd.DataFrame) -> bytes:
    """Every quality criterion vs K, one line per algorithm; the chosen candidate is starred."""
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    axes = fig.subplots(2, 3)
    data = candidates.dropna(subset=["k"]).copy()
    data["k"] = data["k"].astype(int)
    for ax, (column, title) in zip(axes.ravel(), SELECTION_PANELS):
        for algorithm, group in data.groupby("algorithm", sort=False):
            group = group.sort_values("k")
            ax.plot(group["k"], group[column].astype(float), marker="o", label=algorithm)
        chosen = data[data["chosen"].astype(bool)]
        ax.scatter(chosen["k"], chosen[column].astype(float), marker="*", s=300, c="black", zorder=5, label="chosen")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("K")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Segmentation candidates")
    return _png(fig)


def plot_projection(X: np.ndarray, labels: np.ndarray, names: dict[int, str], sample_size: int = 5_000,
                    seed: int = 42) -> bytes:
    """Users in the first two principal components of the preprocessed features, by segment."""
    rows = sample_rows(len(X), sample_size, seed)
    if X.shape[1] >= 2:
        coords = PCA(n_components=2, random_state=seed).fit_transform(X[rows])
    else:
        coords = np.c_[X[rows], np.zeros(len(rows))]
    fig = Figure(figsize=(8, 6.5))
    ax = fig.subplots()
    for segment in sorted(np.unique(labels[rows])):
        mask = labels[rows] == segment
        ax.scatter(coords[mask, 0], coords[mask, 1], s=6, alpha=0.5, label=names.get(int(segment), str(segment)))
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(markerscale=3, fontsize=8)
    ax.set_title(f"Segments in a 2-D PCA projection ({len(rows):,} users)")
    return _png(fig)


def plot_profile_heatmap(matrix: pd.DataFrame) -> bytes:
    """Segments x features: z-score of the segment median against the population."""
    values = matrix.to_numpy(dtype=float)
    fig = Figure(figsize=(max(8, 0.55 * matrix.shape[1] + 3), 0.6 * matrix.shape[0] + 2.5))
    ax = fig.subplots()
    limit = float(np.nanmax(np.abs(values))) if values.size else 1.0
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(matrix.shape[0]), matrix.index, fontsize=9)
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="(segment median - population median) / population sd")
    ax.set_title("Segment profiles")
    return _png(fig)


def plot_importance(table: pd.DataFrame, title: str = "Permutation importance (drop in macro F1)") -> bytes:
    table = table.sort_values("importance")
    fig = Figure(figsize=(8, 0.35 * len(table) + 1.5))
    ax = fig.subplots()
    ax.barh(table["feature"], table["importance"], xerr=table.get("importance_sd"), color="tab:blue")
    ax.set_title(title)
    return _png(fig)


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> bytes:
    """ROC curves: name -> (false positive rate, true positive rate, AUC)."""
    fig = Figure(figsize=(6.5, 6))
    ax = fig.subplots()
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Churn model vs recency-only baseline (held-out users)")
    ax.legend(loc="lower right")
    return _png(fig)


def plot_reliability(bins: pd.DataFrame) -> bytes:
    """Calibration: mean predicted probability vs observed churn rate per bin."""
    fig = Figure(figsize=(6.5, 6))
    ax = fig.subplots()
    for model, group in bins.groupby("model", sort=False):
        ax.plot(group["mean_predicted"], group["observed_rate"], marker="o", label=model)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.set_xlabel("mean predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Reliability (held-out users)")
    ax.legend(loc="upper left")
    return _png(fig)


def plot_segment_overview(summary: pd.DataFrame) -> bytes:
    """Users, 90-day revenue share and mean churn probability per published segment (bars side by side)."""
    fig = Figure(figsize=(10, 3.2))
    axes = fig.subplots(1, 3, sharey=True)
    names = summary["segment_name"].astype(str).tolist()
    panels = [("users", "users"), ("revenue_share_90d", "share of 90-day revenue"),
              ("mean_churn_probability", "mean churn probability")]
    for ax, (column, title) in zip(axes, panels):
        values = pd.to_numeric(summary[column], errors="coerce").fillna(0).to_numpy()
        ax.barh(names, values, color="#4C72B0")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].invert_yaxis()
    return _png(fig)
