"""Models group: segments (clustering, names, tags, classifier, explanations).

scikit-learn comes with `segmentation_pipeline.segments`, imported when the step runs (preload.py).
"""

import dagster as dg
import pandas as pd

from segmentation_pipeline.ingest.contract import CONTRACTS
from segmentation_pipeline.ml.config import SegmentationError
from segmentation_pipeline.ml.markdown import png_markdown
from segmentation_pipeline.settings import load_settings

PLOT_TITLES = {
    "selection": "Quality score vs K for each algorithm",
    "projection": "Users in 2-D (PCA), coloured by segment",
    "profile_heatmap": "Segment profiles (z-scores of segment medians)",
    "feature_importance": "What drives segment membership (permutation importance)",
}


def _md(frame: pd.DataFrame, digits: int = 3) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.round(digits).to_markdown(index=False))


@dg.asset(
    key="user_segments",
    group_name="models",
    # The staging models carry the blocking landing-quality checks; depending on them directly
    # makes a failed gate stop this step (blocking does not propagate through the dbt step).
    deps=[dg.AssetKey("user_features"), *(dg.AssetKey(f"stg_shop__{t}") for t in CONTRACTS)],
    kinds={"scikit-learn", "duckdb"},
    owners=["team:data"],
    description=(
        "Segment per user in `ml.user_segments` of the warehouse (grain: one row per user): K-Means, Gaussian "
        "mixture, Ward and HDBSCAN candidates over a K range, the algorithm and K chosen by silhouette, "
        "Davies-Bouldin, Calinski-Harabasz, elbow and bootstrap stability; readable segment names, value tier, "
        "tags, and a segment classifier whose probability is `segment_confidence`. `ml.segments` lists the "
        "segments with their profile. Models are saved under the models folder as `model_version`."
    ),
)
def user_segments(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from segmentation_pipeline.segments import run_segmentation

    settings = load_settings()
    try:
        run = run_segmentation(settings)
    except SegmentationError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    if not run.refitted:
        sizes = run.assignments.groupby(["segment_id", "segment_name"]).size().rename("users").reset_index()
        context.log.info(f"assigned {len(run.assignments)} users with saved model {run.version}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(run.assignments),
                "as_of_date": run.as_of.isoformat(),
                "mode": "assigned with the saved segment classifier (clustering.refit_every_days)",
                "segments": _md(sizes),
                "model_version": run.version,
                "classifier_version": run.classifier_version,
                "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
            }
        )
    outcome = run.outcome
    metrics = outcome.metrics()
    context.log.info(
        f"chose {outcome.algorithm} with k={outcome.k}; classifier {outcome.classifier.name} "
        f"held-out macro F1 {metrics.get('test_macro_f1')}; model {run.version}"
    )
    plots = "\n\n".join(
        f"**{PLOT_TITLES.get(name, name)}**\n\n{png_markdown(png, name)}" for name, png in outcome.plots.items()
    )
    candidate_columns = [c for c in outcome.candidates.columns if c != "reason"]
    identity = run.identity
    changes = identity.changes() if identity is not None else pd.DataFrame()
    for change in changes.itertuples():
        context.log.warning(
            f"segment {change.segment_id} ({run.names[change.segment_id]}) is {change.status} since the previous "
            f"model" + (f" (Jaccard overlap {change.jaccard})" if change.status == "changed" else "")
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(outcome.assignments),
            "as_of_date": run.as_of.isoformat(),
            "mode": "re-clustered",
            "algorithm": outcome.algorithm,
            "k": outcome.k,
            **{name: value for name, value in metrics.items() if isinstance(value, (int, float, str))},
            "selection_rule": outcome.selection_rule,
            "segments": _md(outcome.segments),
            "segment_identity": dg.MetadataValue.md(
                "Segments matched to the previous model's ids by shared users (Hungarian matching); "
                "status kept / changed (Jaccard < 0.5) / new.\n\n" + identity.report.to_markdown(index=False)
            ),
            "segments_changed_or_new": int(len(changes)),
            "segments_retired": str(identity.retired),
            "candidates": _md(outcome.candidates[candidate_columns]),
            "classifier_comparison": _md(outcome.classifier.comparison),
            "confusion_matrix": dg.MetadataValue.md(outcome.classifier.confusion.to_markdown()),
            "segment_rules": dg.MetadataValue.md(
                f"Decision-tree surrogate, fidelity {outcome.surrogate.fidelity:.3f}:\n\n"
                + "\n".join(f"- {rule}" for rule in outcome.surrogate.rule_strings)
            ),
            "profiles": _md(outcome.profiles),
            "plots": dg.MetadataValue.md(plots),
            "model_version": run.version,
            "classifier_version": run.classifier_version,
            "model_path": dg.MetadataValue.path(str(settings.models_dir / run.version)),
        }
    )


defs = dg.Definitions(assets=[user_segments])
