"""Models group: churn risk per user, learned from history by a time split.

scikit-learn comes with `segmentation_pipeline.churn`, imported when the step runs (preload.py).
"""

from typing import TYPE_CHECKING

import dagster as dg
from dagster_dbt import DbtCliResource

from segmentation_pipeline.defs.dbt import build_as_of
from segmentation_pipeline.ingest.contract import CONTRACTS
from segmentation_pipeline.ml.markdown import png_markdown
from segmentation_pipeline.settings import load_settings

if TYPE_CHECKING:
    from segmentation_pipeline.churn import ChurnRun


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
        "The model and its card are saved under SEGMENTATION_MODELS_DIR as `model_version`. With "
        "churn.retrain_every_days: N, a model trained in the last N days scores the users instead (no rebuild, "
        "no fit)."
    ),
)
def churn_scores(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> dg.MaterializeResult:
    from segmentation_pipeline.churn import (
        TRAIN_SCHEMA_SUFFIX, current_as_of, recent_churn_model, run_churn, score_with_saved, training_as_of,
    )

    settings = load_settings()
    saved = recent_churn_model(settings, current_as_of(settings))
    if saved is not None:
        return _saved_model_result(context, score_with_saved(settings, saved), settings)
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
            "mode": "retrained",
            "trained_as_of": trained_as_of.isoformat(),
            **{k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
            "comparison": dg.MetadataValue.md(outcome.comparison.round(4).to_markdown(index=False)),
            "risk_bands": _risk_bands(run),
            "plots": dg.MetadataValue.md(plots),
            "model_version": run.version,
            "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
        }
    )


def _risk_bands(run: "ChurnRun") -> dg.MetadataValue:
    bands = run.scores["churn_risk"].value_counts().rename_axis("churn_risk").reset_index()
    return dg.MetadataValue.md(bands.to_markdown(index=False))


def _saved_model_result(context: dg.AssetExecutionContext, run: "ChurnRun", settings) -> dg.MaterializeResult:
    metrics = run.card.get("metrics", {})
    context.log.info(
        f"scored {len(run.scores)} users with churn model {run.version}, trained on "
        f"{run.card['data_window']['as_of_date']} (churn.retrain_every_days: {settings.config.churn.retrain_every_days})"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(run.scores),
            "as_of_date": run.as_of.isoformat(),
            "mode": "scored with the saved churn model (churn.retrain_every_days)",
            "model_trained_on": run.card["data_window"]["as_of_date"],
            "trained_as_of": run.trained_as_of.isoformat(),
            **{f"training_{k}": v for k, v in metrics.items() if k in ("roc_auc", "pr_auc", "brier", "churn_rate")},
            "risk_bands": _risk_bands(run),
            "model_version": run.version,
            "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
        }
    )


defs = dg.Definitions(assets=[churn_scores])
