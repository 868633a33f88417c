"""Models group: churn risk per user, learned from history by a time split."""

import dagster as dg
from dagster_dbt import DbtCliResource

from segmentation_pipeline.churn import TRAIN_SCHEMA_SUFFIX, run_churn, training_as_of
from segmentation_pipeline.defs.dbt import build_as_of
from segmentation_pipeline.ingest.contract import CONTRACTS
from segmentation_pipeline.ml.plots import png_markdown
from segmentation_pipeline.settings import load_settings


@dg.asset(
    key="churn_scores",
    group_name="models",
    deps=[dg.AssetKey("user_features"), *(dg.AssetKey(f"stg_shop__{t}") for t in CONTRACTS)],
    kinds={"scikit-learn", "dbt", "duckdb"},
    owners=["team:data"],
    description=(
        "Churn risk per user in table `ml.churn_scores` of the warehouse (SEGMENTATION_WAREHOUSE; grain: one row "
        "per user), published as `churn_probability` in segment_labels: the probability "
        "of no completed order in the next H days (churn.horizon_days, default 90). Trained on user_features "
        "rebuilt by dbt as of (as-of − H) in `marts_churn_train`, labelled by the orders of the following H "
        "days, evaluated on held-out users against a recency-only baseline (ROC AUC, PR AUC, calibration). "
        "The model and its card are saved under SEGMENTATION_MODELS_DIR as `model_version`."
    ),
)
def churn_scores(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> dg.MaterializeResult:
    settings = load_settings()
    trained_as_of = training_as_of(settings)
    context.log.info(f"building user_features as of {trained_as_of} into marts{TRAIN_SCHEMA_SUFFIX}")
    build_as_of(dbt, settings, trained_as_of, TRAIN_SCHEMA_SUFFIX, "+user_features", "churn_train")

    run = run_churn(settings)
    if run.outcome is None:
        context.log.warning(run.skipped_reason)
        return dg.MaterializeResult(metadata={"skipped": run.skipped_reason, "trained_as_of": str(trained_as_of)})
    outcome = run.outcome
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in outcome.metrics.items()}
    plots = "\n\n".join(f"**{name}**\n\n{png_markdown(png, name)}" for name, png in outcome.plots.items())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(outcome.scores),
            "as_of_date": run.as_of.isoformat(),
            "trained_as_of": trained_as_of.isoformat(),
            **{k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
            "comparison": dg.MetadataValue.md(outcome.comparison.round(4).to_markdown(index=False)),
            "risk_bands": dg.MetadataValue.md(
                outcome.scores["churn_risk"].value_counts().rename_axis("churn_risk").reset_index().to_markdown(index=False)
            ),
            "plots": dg.MetadataValue.md(plots),
            "model_version": run.version,
            "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
        }
    )


defs = dg.Definitions(assets=[churn_scores])
