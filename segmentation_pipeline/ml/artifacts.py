"""Saving a trained model with what is needed to trust and reuse it."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import date, datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib

LIBRARIES = ("scikit-learn", "numpy", "pandas", "duckdb")


def model_version(kind: str, as_of: date, fingerprint: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()
    return f"{kind}-{as_of.isoformat()}-{digest[:10]}"


def save_model(models_dir: Path, version_id: str, model: Any, card: dict[str, Any]) -> Path:
    """Write `<models_dir>/<version>/model.joblib` and `model.json` (parameters, metrics, window, versions)."""
    folder = models_dir / version_id
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    card = {
        "model_version": version_id,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": {lib: version(lib) for lib in LIBRARIES},
        **card,
    }
    (folder / "model.json").write_text(json.dumps(card, indent=2, default=str))
    return folder
