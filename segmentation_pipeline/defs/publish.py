"""Publish group: `segment_labels` in the readers' DuckDB file."""


import dagster as dg
import pandas as pd

from segmentation_pipeline.publish import PUBLISHED_COLUMNS, publish_segment_labels
from segmentation_pipeline.settings import load_settings


@dg.asset(
    key="segment_labels",
    group_name="publish",
    deps=[dg.AssetKey("user_segments"), dg.AssetKey("user_rfm_segments")],
    kinds={"duckdb"},
    description=(
        "The published table analysts query: one row per user with K-Means segment, RFM segment and "
        "scores, lifecycle stage, as-of date and model version. Written atomically to table "
        "`segment_labels` of SEGMENTATION_PUBLISHED_DB (default data/segments.duckdb); no PII. "
        f"Columns: {', '.join(PUBLISHED_COLUMNS)}."
    ),
)
def segment_labels(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    publication = publish_segment_labels(load_settings())
    sizes = pd.DataFrame(publication.segments, columns=["segment_name", "users"])
    context.log.info(f"published {publication.rows} users to {publication.path}")
    return dg.MaterializeResult(
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


defs = dg.Definitions(assets=[segment_labels])
