"""History group: segment membership on past as-of dates, launched as a backfill of daily partitions."""

from datetime import date

import dagster as dg
from dagster_dbt import DbtCliResource

from segmentation_pipeline.analytics.effects import record_effects
from segmentation_pipeline.defs.dbt import build_as_of
from segmentation_pipeline.defs.jobs import WAREHOUSE_WRITER
from segmentation_pipeline.release import PublishRejected, publish
from segmentation_pipeline.settings import load_settings
from segmentation_pipeline.warehouse import warehouse_connection

# Partition key = as-of date. Dates after the data's as-of date are refused at run time.
AS_OF_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=1)


@dg.asset(
    key="segment_history_backfill",
    group_name="history",
    partitions_def=AS_OF_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["segment_labels"],
    owners=["team:data"],
    kinds={"dbt", "scikit-learn", "duckdb"},
    description=(
        "Past slices of `segment_history` (grain: one partition per as-of date, one row per user in it): dbt rebuilds the features as of each "
        "date into the `*_history` schemas, the model behind the current segments assigns the users and the "
        "current churn model scores them; then the published file is rebuilt so segment_history, "
        "segment_summary, segment_migration and segment_effects include them. Launch a backfill over a date "
        "range from the UI, or `dagster asset materialize -m segmentation_pipeline --select "
        "segment_history_backfill --partition-range 2026-06-01...2026-06-29`. Runs as one run; re-running a "
        "date replaces its rows."
    ),
)
def segment_history_backfill(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> dg.MaterializeResult:
    from segmentation_pipeline.backfill import (  # scikit-learn (segment assignment)
        HISTORY_SCHEMA_SUFFIX, BackfillError, check_dates, current_models, record_past_date,
    )

    settings = load_settings()
    dates = sorted(date.fromisoformat(key) for key in context.partition_keys)
    try:
        segmentation, churn, current = current_models(settings)
        check_dates(dates, current)
    except BackfillError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    written = {}
    for as_of in dates:
        build_as_of(dbt, settings, as_of, HISTORY_SCHEMA_SUFFIX, "+user_features +user_rfm_segments", "history", quiet=True)
        written[as_of.isoformat()] = record_past_date(settings, as_of, segmentation, churn)
        context.log.info(f"history {as_of}: {written[as_of.isoformat()]} users")
    with warehouse_connection(settings) as con:
        record_effects(con, dates)
    try:
        released = publish(settings, record_current=False)
    except PublishRejected as rejected:
        raise dg.Failure(description=str(rejected), allow_retries=False) from None
    return dg.MaterializeResult(metadata={
        "dates": len(dates),
        "users_per_date": dg.MetadataValue.json(written),
        "segmentation_model": segmentation,
        "published_file": dg.MetadataValue.path(str(released.publication.path)),
    })


segment_history_job = dg.define_asset_job(
    "segment_history_backfill_job",
    selection=dg.AssetSelection.assets("segment_history_backfill"),
    partitions_def=AS_OF_PARTITIONS,
    tags=WAREHOUSE_WRITER,
    description="Rebuild segment_history for past as-of dates (backfill a partition range).",
)

defs = dg.Definitions(assets=[segment_history_backfill], jobs=[segment_history_job])
