"""Saving trained models with what is needed to trust and reuse them.

Each model goes to `<models_dir>/<model_version>/model.joblib` with a JSON card `model.json`
(kind, parameters, metrics, data window, features, library versions). Model folders live under
the data directory, never in git.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from segmentation_pipeline.ml.churn import ChurnOutcome
    from segmentation_pipeline.ml.segmentation import SegmentationOutcome

LIBRARIES = ("scikit-learn", "scipy", "numpy", "pandas", "joblib", "duckdb")


def _library_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (date, datetime, Path)):
        return str(value)
    return value


def model_version(kind: str, as_of: date, fingerprint: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(_jsonable(fingerprint), sort_keys=True, default=str).encode()).hexdigest()
    return f"{kind}-{as_of.isoformat()}-{digest[:10]}"


def save_model(models_dir: Path, version_id: str, model: Any, card: dict[str, Any]) -> Path:
    """Write `<models_dir>/<version>/model.joblib` and `model.json` (parameters, metrics, window, versions)."""
    folder = Path(models_dir) / version_id
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    card = {
        "model_version": version_id,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": {lib: _library_version(lib) for lib in LIBRARIES},
        **card,
    }
    (folder / "model.json").write_text(json.dumps(_jsonable(card), indent=2, default=str))
    return folder


def load_model(models_dir: Path, version_id: str) -> tuple[Any, dict[str, Any]]:
    folder = Path(models_dir) / version_id
    return joblib.load(folder / "model.joblib"), json.loads((folder / "model.json").read_text())


def _checksum(values: np.ndarray) -> int:
    return int(pd.util.hash_array(np.asarray(values)).sum() % (2**61))


def save_segmentation(models_dir: Path, outcome: SegmentationOutcome, as_of: date,
                      segment_ids: np.ndarray | None = None, max_segment_id: int | None = None) -> dict[str, str]:
    """Save the segmentation model and the segment classifier; returns {"segmentation": id, "classifier": id}.

    `segment_ids` maps segment index -> the stable published segment_id (default index + 1).
    """
    segment_ids = np.arange(1, outcome.k + 1) if segment_ids is None else np.asarray(segment_ids, dtype=int)
    config = outcome.config
    window = {"as_of_date": as_of, "users": int(len(outcome.labels))}
    seg_version = model_version(outcome.algorithm, as_of, {
        "k": outcome.k, "seed": config.seed, "features": outcome.model.features, "users": len(outcome.labels),
        "labels_checksum": _checksum(outcome.labels), "segment_ids": segment_ids.tolist(),
    })
    chosen = outcome.candidates[outcome.candidates["chosen"]].iloc[0]
    ids = {"segment_ids": segment_ids.tolist(), "max_segment_id": int(max_segment_id or segment_ids.max())}
    save_model(models_dir, seg_version, {"segment_model": outcome.model, "tag_cutoffs": outcome.tag_cutoffs,
                                         "segment_names": outcome.names, **ids}, {
        "kind": "segmentation",
        "algorithm": outcome.algorithm,
        "parameters": {"k": outcome.k, "config": config, "selection_rule": outcome.selection_rule},
        "metrics": {c: chosen[c] for c in ("silhouette", "davies_bouldin", "calinski_harabasz", "stability", "score")},
        "candidates": outcome.candidates.drop(columns=["reason"]).to_dict(orient="records"),
        "data_window": window,
        "features": outcome.model.features,
        "segment_names": outcome.names,
        **ids,
        "segments": outcome.segments.to_dict(orient="records"),
        "tag_cutoffs": outcome.tag_cutoffs,
    })
    classifier = outcome.classifier
    clf_version = model_version("classifier", as_of, {"segmentation": seg_version, "classifier": classifier.name})
    save_model(models_dir, clf_version, {"classifier": classifier.model, "segment_names": outcome.names}, {
        "kind": "segment_classifier",
        "algorithm": classifier.name,
        "segmentation_version": seg_version,
        "parameters": classifier.model.named_steps["model"].get_params(),
        "metrics": {**classifier.metrics(), "confusion_matrix": classifier.confusion.values.tolist()},
        "comparison": classifier.comparison.to_dict(orient="records"),
        "data_window": window,
        "features": outcome.model.features,
        "surrogate_rules": outcome.surrogate.rule_strings,
        "surrogate_fidelity": outcome.surrogate.fidelity,
    })
    return {"segmentation": seg_version, "classifier": clf_version}


def save_churn(models_dir: Path, outcome: ChurnOutcome, as_of: date) -> str:
    """Save the churn model (and its recency baseline) with its card; returns the model_version."""
    horizon = outcome.config.horizon_days
    version_id = model_version("churn", as_of, {"features": outcome.features, "metrics": outcome.metrics,
                                                "horizon": horizon, "seed": outcome.config.seed})
    save_model(models_dir, version_id, {"model": outcome.model, "baseline": outcome.baseline,
                                        "features": outcome.features}, {
        "kind": "churn",
        "algorithm": "hist_gradient_boosting",
        "parameters": {**outcome.model.get_params(), "config": outcome.config},
        "metrics": outcome.metrics,
        "comparison": outcome.comparison.to_dict(orient="records"),
        "data_window": {"as_of_date": as_of, "training_features_as_of": as_of.fromordinal(as_of.toordinal() - horizon),
                        "label_window_days": horizon},
        "features": outcome.features,
    })
    return version_id
