"""The end-to-end job and its nightly schedule."""


import os

import dagster as dg

from segmentation_pipeline.settings import load_settings

segmentation_job = dg.define_asset_job(
    "segmentation_job",
    selection=dg.AssetSelection.all(),
    description="Landing files to published segment_labels: ingest, dbt build, clustering, publish.",
)


def nightly_schedule() -> dg.ScheduleDefinition:
    schedule = load_settings().config.schedule
    return dg.ScheduleDefinition(
        name="nightly_segmentation",
        job=segmentation_job,
        cron_schedule=schedule.cron,
        execution_timezone=os.environ.get("SEGMENTATION_TIMEZONE") or schedule.timezone,
        description="Refreshes the segments every night (02:00 by default; see schedule in segmentation.yaml).",
    )


defs = dg.Definitions(jobs=[segmentation_job], schedules=[nightly_schedule()])
