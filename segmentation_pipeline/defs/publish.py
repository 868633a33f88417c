"""Publish group: `segment_labels` in the readers' DuckDB file, validated before it replaces the old one."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.defs.quality import verdict_metadata
from segmentation_pipeline.publish import (
    PUBLISHED_COLUMNS,
    build_publication,
    commit_publication,
    discard,
    staged_frame,
)
from segmentation_pipeline.quality.context import quality_dir
from segmentation_pipeline.quality.validate import run_suite
from segmentation_pipeline.settings import Settings, load_settings
from segmentation_pipeline.warehouse import warehouse_connection

# Readable names: letters first, then words, commas and a "#n" suffix when two segments are alike.
SEGMENT_NAME_PATTERN = r"^[A-Z][A-Za-z0-9 ,'&/+-]*( #[0-9]+)?$"
CHECK = dg.AssetCheckSpec(
    "published_labels_quality",
    asset="segment_labels",
    blocking=True,
    description=(
        "Great Expectations suite `segment_labels` on the new file before it replaces the published one: every "
        "user exactly one label, segment and RFM names from the allowed sets, no empty segment, no PII columns."
    ),
)


def _suite_parameters(settings: Settings) -> dict:
    with warehouse_connection(settings, read_only=True) as con:
        users = con.execute("SELECT count(*) FROM marts.user_features").fetchone()[0]
        segment_ids = [r[0] for r in con.execute("SELECT segment_id FROM ml.segments ORDER BY 1").fetchall()]
    return {
        "published_columns": list(PUBLISHED_COLUMNS),
        "expected_users": users,
        "segment_ids": segment_ids,
        "segment_name_pattern": SEGMENT_NAME_PATTERN,
    }


@dg.asset(
    key="segment_labels",
    group_name="publish",
    deps=[dg.AssetKey("user_segments"), dg.AssetKey("churn_scores"), dg.AssetKey("user_rfm_segments")],
    owners=["team:data"],
    kinds={"duckdb"},
    check_specs=[CHECK],
    description=(
        "The published table analysts query: one row per user with segment (name, confidence), value tier, "
        "tags, churn probability, RFM segment and scores, lifecycle stage, as-of date and model versions. Validated, then written atomically to table "
        "`segment_labels` of SEGMENTATION_PUBLISHED_DB (default data/segments.duckdb); no PII. "
        f"Columns: {', '.join(PUBLISHED_COLUMNS)}."
    ),
)
def segment_labels(context: dg.AssetExecutionContext):
    settings = load_settings()
    staged = build_publication(settings)
    try:
        verdict = run_suite(quality_dir(settings.warehouse), "segment_labels", staged_frame(staged), _suite_parameters(settings))
    except BaseException:
        discard(staged)
        raise
    check_metadata = verdict_metadata(verdict, verdict.rows_validated)
    if not verdict.success:
        discard(staged)
        yield dg.AssetCheckResult(
            check_name=CHECK.name, passed=False, description=verdict.summary()[:2000], metadata=check_metadata
        )
        raise dg.Failure(
            description=f"Not published; {settings.published_db} is unchanged. {verdict.summary()}",
            allow_retries=False,
        )
    publication = commit_publication(staged, settings.published_db)
    sizes = pd.DataFrame(publication.segments, columns=["segment_name", "users"])
    context.log.info(f"published {publication.rows} users to {publication.path}")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": publication.rows,
            "published_file": dg.MetadataValue.path(str(publication.path)),
            "segments": dg.MetadataValue.md(sizes.to_markdown(index=False)),
            "example_query": dg.MetadataValue.md(
                f"```\nduckdb {publication.path} -readonly -c "
                "\"select segment_name, count(*) from segment_labels group by 1\"\n```"
            ),
        }
    )
    yield dg.AssetCheckResult(check_name=CHECK.name, passed=True, description=verdict.summary(), metadata=check_metadata)


defs = dg.Definitions(assets=[segment_labels])
