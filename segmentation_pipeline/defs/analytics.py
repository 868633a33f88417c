"""Models group: what each segment buys together (category association rules)."""

import dagster as dg

from segmentation_pipeline.settings import load_settings
from segmentation_pipeline.warehouse import warehouse_connection


@dg.asset(
    key="association_rules",
    group_name="models",
    deps=["user_segments", "stg_shop__orders", "stg_shop__order_items"],
    owners=["team:data"],
    kinds={"mlxtend", "duckdb"},
    description=(
        "Category association rules per segment in `analytics.segment_associations` of the warehouse (grain: one "
        "row per segment and rule): baskets are completed orders of the year before the as-of date, mined with "
        "mlxtend Apriori (FP-growth for large basket x category matrices); thresholds "
        "analytics.association_min_support / _min_confidence / _max_len. "
        "Published as `segment_associations` with small-group suppression."
    ),
)
def association_rules(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from segmentation_pipeline.analytics.rules import record_rules, segment_rules  # pandas, mlxtend (preload.py)

    settings = load_settings()
    with warehouse_connection(settings) as con:
        rules = segment_rules(con, settings.config.analytics)
        record_rules(con, rules)
    top = rules.sort_values(["segment_id", "lift"], ascending=[True, False]).groupby("segment_id").head(3)
    context.log.info(f"{len(rules)} association rules over {rules['segment_id'].nunique()} segments")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": len(rules),
        "top_rules": dg.MetadataValue.md(
            top[["segment_name", "antecedent", "consequent", "support", "confidence", "lift"]].to_markdown(index=False)
            if not rules.empty else "(no rule above the thresholds)"
        ),
        "min_support": settings.config.analytics.association_min_support,
        "min_confidence": settings.config.analytics.association_min_confidence,
        "segments_with_rules": int(rules["segment_id"].nunique()) if not rules.empty else 0,
        "baskets": int(rules.drop_duplicates("segment_id")["baskets"].sum()) if not rules.empty else 0,
    })


defs = dg.Definitions(assets=[association_rules])
