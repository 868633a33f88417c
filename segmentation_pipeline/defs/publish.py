"""Publish group: the readers' DuckDB file, validated before it replaces the old one, and activation exports."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.analytics.exports import write_exports
from segmentation_pipeline.defs.quality import verdict_metadata
from segmentation_pipeline.ml.markdown import png_markdown
from segmentation_pipeline.publish import PUBLISHED_COLUMNS
from segmentation_pipeline.release import PublishRejected, publish
from segmentation_pipeline.settings import load_settings

CHECK = dg.AssetCheckSpec(
    "published_labels_quality",
    asset="segment_labels",
    blocking=True,
    description=(
        "Great Expectations suite `segment_labels` on the new file before it replaces the published one: every "
        "user exactly one label, segment and RFM names from the allowed sets, no empty segment, no PII columns."
    ),
)
WHERE = "of SEGMENTATION_PUBLISHED_DB (default data/segments.duckdb)"
PUBLISHED = {
    "segment_labels": (
        "The table analysts query: one row per user with segment (name, confidence), value tier, tags, churn "
        "probability, RFM segment and scores, lifecycle stage, as-of date and model versions; no PII. Validated, "
        f"then written atomically as table `segment_labels` {WHERE}. Columns: {', '.join(PUBLISHED_COLUMNS)}."
    ),
    "segment_history": (
        "Membership over time (grain: one row per user × as-of date) (segment, RFM segment, lifecycle stage, value "
        f"tier, churn probability, model version); table `segment_history` {WHERE}. Re-running a date replaces "
        "its rows; older dates come from the `segment_history_backfill` job. Only new or replaced dates are "
        "written; the others are carried over from the previous publication (list: `segment_history_slices`)."
    ),
    "segment_summary": (
        "KPIs per segment (grain: one row per segment × as-of date): users, share, revenue 30/90 days and its share, average order value, "
        "repurchase rate, purchase conversion, mean churn probability, top categories, median profile; "
        f"table `segment_summary` {WHERE}. Groups under privacy.min_group_size users are suppressed."
    ),
    "rfm_summary": f"The same KPIs per RFM segment (grain: one row per RFM segment × as-of date); table `rfm_summary` {WHERE}.",
    "segment_migration": (
        "Users moving from each segment to each other (grain: one row per from-segment × to-segment) between the two latest as-of dates (new and departed "
        f"users included); table `segment_migration` {WHERE}. Any two dates: `segment_moves(from, to)`."
    ),
    "segment_effects": (
        "How each segment converted after each as-of date until the next one (grain: one row per segment × as-of date): share that purchased and revenue "
        f"per user, against everyone else; table `segment_effects` {WHERE}."
    ),
    "segment_associations": (
        "Category association rules (grain: one row per segment × rule) mined with mlxtend (Apriori or FP-growth) "
        "on the last year's completed orders "
        f"(antecedent, consequent, support, confidence, lift); table `segment_associations` {WHERE}."
    ),
}
SPECS = [
    dg.AssetSpec(
        key,
        group_name="publish",
        description=text,
        owners=["team:data"],
        kinds={"duckdb"},
        deps=["user_segments", "churn_scores", "user_rfm_segments", "association_rules"],
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=25))
        if key == "segment_labels" else None,
    )
    for key, text in PUBLISHED.items()
]


@dg.multi_asset(specs=SPECS, check_specs=[CHECK], can_subset=False, name="publish_segments")
def publish_segments(context: dg.AssetExecutionContext):
    from segmentation_pipeline.ml.plots import plot_segment_overview  # matplotlib, scikit-learn (preload.py)

    settings = load_settings()
    try:
        result = publish(settings)
    except PublishRejected as rejected:
        yield dg.AssetCheckResult(check_name=CHECK.name, passed=False, description=rejected.verdict.summary()[:2000],
                                  metadata=verdict_metadata(rejected.verdict, rejected.verdict.rows_validated))
        raise dg.Failure(description=str(rejected), allow_retries=False) from None
    publication, verdict, summary = result.publication, result.verdict, result.summary
    context.log.info(f"published {publication.rows} users and {len(publication.tables)} tables to {publication.path}")
    path = dg.MetadataValue.path(str(publication.path))
    latest = summary[summary["as_of_date"] == summary["as_of_date"].max()] if not summary.empty else summary
    sizes = latest[["segment_id", "segment_name", "users", "share", "revenue_share_90d", "mean_churn_probability"]]
    yield dg.MaterializeResult(
        asset_key="segment_labels",
        metadata={
            "dagster/row_count": publication.rows,
            "as_of_date": result.as_of.isoformat(),
            "published_file": path,
            "segments": dg.MetadataValue.table(
                records=[dg.TableRecord({k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
                                         for k, v in row.items()}) for row in sizes.to_dict(orient="records")],
                schema=dg.TableSchema(columns=[
                    dg.TableColumn("segment_id", "int"), dg.TableColumn("segment_name", "string"),
                    dg.TableColumn("users", "int"), dg.TableColumn("share", "float"),
                    dg.TableColumn("revenue_share_90d", "float"), dg.TableColumn("mean_churn_probability", "float"),
                ]),
            ) if not sizes.empty else dg.MetadataValue.md("(all segments suppressed)"),
            "plots": dg.MetadataValue.md(
                "**Segments: size, revenue share and churn risk**\n\n"
                + png_markdown(plot_segment_overview(sizes), "segment overview")
            ) if not sizes.empty else dg.MetadataValue.md("(no unsuppressed segment to plot)"),
            "pseudonymised_ids": settings.id_secret is not None,
            "example_query": dg.MetadataValue.md(
                f"```\nduckdb {publication.path} -readonly -c "
                "\"select segment_name, count(*) from segment_labels group by 1\"\n```"
            ),
        },
    )
    yield dg.AssetCheckResult(check_name=CHECK.name, passed=True, description=verdict.summary(),
                              metadata=verdict_metadata(verdict, verdict.rows_validated))
    for key in PUBLISHED:
        if key == "segment_labels":
            continue
        metadata = {
            "dagster/row_count": int(publication.tables.get(key, 0)),
            "rows_suppressed": int(publication.suppressed.get(key, 0)),
            "published_file": path,
        }
        if key == "segment_history" and publication.history is not None:
            metadata["dates_written"] = ", ".join(publication.history.written) or "(none)"
            metadata["dates_carried_over"] = publication.history.carried
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


@dg.asset(
    key="segment_exports",
    group_name="publish",
    deps=["segment_labels"],
    owners=["team:marketing"],
    kinds={"csv"},
    description=(
        "Activation exports (grain: one file per segment, one line per user; user_id, segment, value tier, tags, churn probability, RFM "
        "segment, lifecycle stage) in SEGMENTATION_EXPORTS_DIR/<as_of_date>/ (default data/exports), CSV or "
        "Parquet (analytics.exports_format), with manifest.json; ids are pseudonyms when SEGMENTATION_ID_SECRET is set."
    ),
)
def segment_exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    exported = write_exports(settings.published_db, settings.exports_dir, settings.config.analytics.exports_format)
    context.log.info(f"wrote {len(exported.files)} export files to {exported.folder}")
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(exported.folder)),
        "files": dg.MetadataValue.md(pd.DataFrame(list(exported.files.items()), columns=["file", "users"])
                                     .to_markdown(index=False)),
        "dagster/row_count": sum(exported.files.values()),
    })


defs = dg.Definitions(assets=[publish_segments, segment_exports])
