"""What each segment buys together: category association rules per segment (`analytics.segment_associations`).

A basket is one completed order in the year before the as-of date; its items are the categories of its
order lines. Mining is mlxtend's Apriori or FP-growth (see ml/associations.py); thresholds are `analytics.*` in
segmentation.yaml.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from segmentation_pipeline.config import AnalyticsConfig
from segmentation_pipeline.ml.associations import mine_segment_rules

BASKETS_SQL = """
SELECT DISTINCT seg.segment_id, o.order_id AS basket_id, i.category AS item
FROM staging.stg_shop__orders AS o
JOIN staging.stg_shop__order_items AS i USING (order_id)
JOIN ml.user_segments AS seg USING (user_id)
WHERE o.status = 'completed' AND i.category IS NOT NULL
  AND o.ordered_at >= (SELECT max(as_of_date) FROM marts.user_features) - INTERVAL 364 DAY
ORDER BY 1, 2, 3
"""


def segment_rules(con: duckdb.DuckDBPyConnection, config: AnalyticsConfig) -> pd.DataFrame:
    baskets = con.execute(BASKETS_SQL).to_arrow_table().to_pandas()
    rules = mine_segment_rules(baskets, config.association_min_support, config.association_min_confidence,
                               config.association_max_len)
    names = con.execute("SELECT segment_id, segment_name FROM ml.segments").fetch_df()
    as_of = con.execute("SELECT max(as_of_date) FROM marts.user_features").fetchone()[0]
    rules = rules.merge(names, on="segment_id", how="left").assign(as_of_date=as_of)
    first = ["as_of_date", "segment_id", "segment_name"]
    return rules[first + [c for c in rules.columns if c not in first]]


def record_rules(con: duckdb.DuckDBPyConnection, rules: pd.DataFrame) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    con.register("incoming_rules", rules)
    con.execute("CREATE OR REPLACE TABLE analytics.segment_associations AS SELECT * FROM incoming_rules")
    con.unregister("incoming_rules")
