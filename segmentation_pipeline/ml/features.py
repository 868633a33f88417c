"""Compatibility shim: the feature lists and the preprocessor now live in `preprocessing.py`."""

from segmentation_pipeline.ml.preprocessing import (  # noqa: F401
    LOG_FEATURES,
    MODEL_FEATURES,
    PROFILE_FEATURES,
    RATE_FEATURES,
    RECENCY_CAP_DAYS,
    RECENCY_FEATURE,
    build_preprocessor,
)
