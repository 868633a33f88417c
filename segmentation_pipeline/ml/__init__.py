"""Segmentation models: plain scikit-learn code with no Dagster imports.

Entry points (imported lazily, so `import segmentation_pipeline.ml.x` stays cheap):
- `segment_users(features, config, seed) -> SegmentationOutcome` (segmentation.py)
- `assign_new_users(model, classifier, features, cutoffs)` for users seen between re-clusterings
- `score_churn(train_features, churned, score_features, config, seed) -> ChurnOutcome` (churn.py)
- `save_segmentation` / `save_churn` / `load_model` (artifacts.py), figures in `plots`.
"""

from importlib import import_module

_EXPORTS = {
    "ChurnConfig": "config",
    "SegmentationConfig": "config",
    "SegmentationError": "config",
    "Thresholds": "config",
    "ChurnOutcome": "churn",
    "churn_labels": "churn",
    "score_churn": "churn",
    "SegmentationOutcome": "segmentation",
    "assign_new_users": "segmentation",
    "segment_users": "segmentation",
    "save_churn": "artifacts",
    "save_segmentation": "artifacts",
    "load_model": "artifacts",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"segmentation_pipeline.ml.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'segmentation_pipeline.ml' has no attribute {name!r}")
