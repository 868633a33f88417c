"""The end-to-end job and its nightly schedule."""


import hashlib
import os
from pathlib import Path

import dagster as dg

from segmentation_pipeline.settings import load_settings

# Runs carrying this tag queue behind each other (tag_concurrency_limits in $DAGSTER_HOME/dagster.yaml,
# written by the Makefile): DuckDB allows one writer per warehouse file.
WAREHOUSE_WRITER = {"segmentation/warehouse": "writer"}

segmentation_job = dg.define_asset_job(
    "segmentation_job",
    # The history backfill is partitioned by past as-of dates and has its own job.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("history"),
    tags=WAREHOUSE_WRITER,
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


def landing_fingerprint(data_dir: Path) -> str:
    """Names, sizes and modification times of every file under the landing folder."""
    files = sorted(p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    listing = "\n".join(f"{p.relative_to(data_dir)}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in files)
    return hashlib.sha256(listing.encode()).hexdigest()


@dg.sensor(
    name="new_landing_files",
    job=segmentation_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Starts segmentation_job when files in SEGMENTATION_DATA_DIR are added, replaced or removed (checked every "
        "minute; waits until the folder has not changed for one check, so a half-copied delivery is not read). "
        "Off by default: turn it on in the UI (Automation) or `dagster sensor start new_landing_files`."
    ),
)
def new_landing_files(context: dg.SensorEvaluationContext):
    data_dir = load_settings().data_dir
    if not data_dir.exists():
        return dg.SkipReason(f"{data_dir} does not exist")
    fingerprint = landing_fingerprint(data_dir)
    seen, pending = (context.cursor or "|").split("|")
    if fingerprint == seen:
        return dg.SkipReason("no new landing files")
    if fingerprint != pending:  # changed since the last check: let the delivery settle first
        context.update_cursor(f"{seen}|{fingerprint}")
        return dg.SkipReason("landing files changed; waiting one interval for the delivery to finish")
    context.update_cursor(f"{fingerprint}|")
    return dg.RunRequest(run_key=fingerprint)


defs = dg.Definitions(jobs=[segmentation_job], schedules=[nightly_schedule()], sensors=[new_landing_files])
