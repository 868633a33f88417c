"""Models group: K-Means segments over `user_features`."""


import dagster as dg

from segmentation_pipeline.ingest.contract import CONTRACTS

from segmentation_pipeline.ml.kmeans import SegmentationError
from segmentation_pipeline.segments import run_segmentation
from segmentation_pipeline.settings import load_settings


@dg.asset(
    key="user_segments",
    group_name="models",
    # The staging models carry the blocking landing-quality checks; depending on them directly
    # makes a failed gate stop this step (blocking does not propagate through the dbt step).
    deps=[dg.AssetKey("user_features"), *(dg.AssetKey(f"stg_shop__{t}") for t in CONTRACTS)],
    kinds={"scikit-learn", "duckdb"},
    description=(
        "K-Means segment per user over standardised, log-scaled `user_features`, with K chosen by "
        "silhouette score; stored in `ml.user_segments` of the warehouse. Grain: one row per user. "
        "The fitted pipeline and its model card are saved under the models folder as `model_version`."
    ),
)
def user_segments(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    try:
        run = run_segmentation(settings)
    except SegmentationError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    scores = "\n".join(
        f"| {k} | {score:.4f} |{' chosen' if k == run.result.k else ''}"
        for k, score in sorted(run.result.silhouette_by_k.items())
    )
    context.log.info(f"chose k={run.result.k} (silhouette {run.result.silhouette:.3f}); model {run.version}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(run.sizes["users"].sum()),
            "as_of_date": run.as_of.isoformat(),
            "k": run.result.k,
            "silhouette": round(run.result.silhouette, 4),
            "silhouette_by_k": dg.MetadataValue.md("| k | silhouette |\n|---|---|\n" + scores),
            "segments": dg.MetadataValue.md(run.sizes.to_markdown(index=False)),
            "model_version": run.version,
            "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
        }
    )


defs = dg.Definitions(assets=[user_segments])
