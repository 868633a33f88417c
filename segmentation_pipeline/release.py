"""One publication: check segment_labels, record the run in the history, add the analytics, swap the file in.

Used by the nightly job (which records the current as-of date) and by the history backfill (which has
already recorded its past dates and only republishes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from segmentation_pipeline.analytics.effects import record_effects
from segmentation_pipeline.analytics.history import record_membership
from segmentation_pipeline.analytics.summary import record_summaries
from segmentation_pipeline.publish import (
    PUBLISHED_COLUMNS, Publication, add_analytics, build_publication, commit_publication, discard, staged_frame,
)
from segmentation_pipeline.quality.context import quality_dir
from segmentation_pipeline.quality.validate import SuiteVerdict, run_suite
from segmentation_pipeline.settings import Settings
from segmentation_pipeline.warehouse import warehouse_connection

# Readable names: letters first, then words, commas and a "#n" suffix when two segments are alike.
SEGMENT_NAME_PATTERN = r"^[A-Z][A-Za-z0-9 ,'&/+-]*( #[0-9]+)?$"


class PublishRejected(RuntimeError):
    def __init__(self, settings: Settings, verdict: SuiteVerdict):
        self.verdict = verdict
        super().__init__(f"Not published; {settings.published_db} is unchanged. {verdict.summary()}")


@dataclass
class Released:
    publication: Publication
    verdict: SuiteVerdict
    as_of: date
    summary: pd.DataFrame  # published segment_summary (after suppression)


def suite_parameters(settings: Settings) -> dict:
    with warehouse_connection(settings, read_only=True) as con:
        users = con.execute("SELECT count(*) FROM marts.user_features").fetchone()[0]
        segment_ids = [r[0] for r in con.execute("SELECT segment_id FROM ml.segments ORDER BY 1").fetchall()]
    return {
        "published_columns": list(PUBLISHED_COLUMNS),
        "expected_users": users,
        "segment_ids": segment_ids,
        "segment_name_pattern": SEGMENT_NAME_PATTERN,
    }


def record_current_run(settings: Settings, as_of: date) -> None:
    """The current run's membership and KPIs as the history slice for `as_of` (replacing a re-run date)."""
    with warehouse_connection(settings) as con:
        record_membership(con, as_of)
        record_summaries(con, as_of)
        record_effects(con, [as_of])


def publish(settings: Settings, record_current: bool = True) -> Released:
    staged = build_publication(settings)
    try:
        labels = staged_frame(staged)
        verdict = run_suite(quality_dir(settings.warehouse), "segment_labels", labels, suite_parameters(settings))
        if not verdict.success:
            raise PublishRejected(settings, verdict)
        as_of = pd.Timestamp(labels["as_of_date"].max()).date()
        del labels
        if record_current:
            record_current_run(settings, as_of)
        suppressed, history = add_analytics(staged, settings)
        publication = commit_publication(staged, settings.published_db, suppressed, history)
    except BaseException:
        discard(staged)
        raise
    with duckdb.connect(str(publication.path), read_only=True) as con:
        summary = con.execute("SELECT * FROM segment_summary ORDER BY as_of_date, segment_id").fetch_df()
    return Released(publication, verdict, as_of, summary)
