"""Cluster users from `marts.user_features` and store the result in `ml.user_segments`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from segmentation_pipeline.ml.artifacts import model_version, save_model
from segmentation_pipeline.ml.features import MODEL_FEATURES
from segmentation_pipeline.ml.kmeans import KMeansSegmentation, SegmentationError, fit_kmeans
from segmentation_pipeline.ml.naming import name_segments
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection

NAMING_COLUMNS = ["frequency", "monetary", "avg_order_value", "recency_days", "sessions_90d", "tenure_days", "refund_share"]


@dataclass
class SegmentRun:
    as_of: date
    version: str
    result: KMeansSegmentation
    names: dict[int, str]
    sizes: pd.DataFrame


def load_feature_frame(settings: Settings) -> pd.DataFrame:
    columns = ["user_id", "as_of_date", *sorted(set(MODEL_FEATURES) | set(NAMING_COLUMNS))]
    with warehouse_connection(settings, read_only=True) as con:
        frame = con.execute(
            f"SELECT {', '.join(columns)} FROM marts.user_features ORDER BY user_id"
        ).fetch_df()
    if frame.empty:
        raise SegmentationError("marts.user_features is empty: no users to segment. Check the landing files.")
    return frame


def run_segmentation(settings: Settings) -> SegmentRun:
    frame = load_feature_frame(settings)
    as_of = pd.Timestamp(frame["as_of_date"].iloc[0]).date()
    cfg = settings.config.clustering
    result = fit_kmeans(frame, cfg.k_min, cfg.k_max, cfg.seed, cfg.silhouette_sample_size)
    names = name_segments(frame, result.labels, settings.config.lifecycle.model_dump())
    version = model_version(
        "kmeans",
        as_of,
        {"k": result.k, "seed": cfg.seed, "features": MODEL_FEATURES, "users": len(frame),
         "labels_checksum": int(pd.util.hash_array(result.labels).sum() % (2**61))},
    )
    save_model(
        settings.models_dir,
        version,
        {"pipeline": result.model, "label_mapping": result.label_mapping, "segment_names": names},
        {
            "algorithm": "kmeans",
            "parameters": {"k": result.k, "seed": cfg.seed, "k_range": [cfg.k_min, cfg.k_max]},
            "metrics": {"silhouette_by_k": result.silhouette_by_k, "silhouette": result.silhouette},
            "data_window": {"as_of_date": as_of, "users": len(frame)},
            "features": MODEL_FEATURES,
            "segment_names": names,
        },
    )
    assignments = pd.DataFrame(
        {
            "user_id": frame["user_id"],
            "segment_id": result.labels.astype("int32") + 1,
            "segment_name": [names[int(label)] for label in result.labels],
            "model_version": version,
        }
    )
    with warehouse_connection(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS ml")
        con.register("assignments", assignments)
        con.execute("CREATE OR REPLACE TABLE ml.user_segments AS SELECT * FROM assignments")
        con.unregister("assignments")
        catalog = pd.DataFrame(
            {"segment_id": [s + 1 for s in sorted(names)], "segment_name": [names[s] for s in sorted(names)],
             "model_version": version}
        )
        con.register("catalog", catalog)
        con.execute("CREATE OR REPLACE TABLE ml.segments AS SELECT * FROM catalog")
        con.unregister("catalog")
    sizes = (
        assignments.groupby(["segment_id", "segment_name"]).size().rename("users").reset_index()
    )
    sizes["share"] = (sizes["users"] / sizes["users"].sum()).round(4)
    return SegmentRun(as_of=as_of, version=version, result=result, names=names, sizes=sizes)
