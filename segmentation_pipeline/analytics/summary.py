"""KPIs per group (segment or RFM segment) for one as-of date: `history.segment_summary`, `history.rfm_summary`.

Revenue is completed-order spend from `user_features` (spend_30d, spend_90d); purchase conversion is
sessions with a purchase per session; top categories rank the group's order-item spend.
"""

from __future__ import annotations

from datetime import date

import duckdb

from segmentation_pipeline.analytics.history import ensure_history, replace_slice

KPI_SQL = """
WITH members AS (
    SELECT user_id, {group_columns}, churn_probability
    FROM history.segment_history WHERE as_of_date = DATE '{as_of}'
),
base AS (
    SELECT m.*, f.as_of_date, f.frequency, f.monetary, f.spend_30d, f.spend_90d, f.recency_days, f.sessions_90d,
           coalesce(s.total_sessions, 0) AS sessions,
           coalesce(s.purchase_conversion_rate * s.total_sessions, 0) AS purchase_sessions
    FROM members AS m
    JOIN marts{suffix}.user_features AS f USING (user_id)
    LEFT JOIN intermediate{suffix}.int_user_sessions_aggregated AS s USING (user_id)
),
totals AS (
    SELECT count(*) AS all_users, sum(spend_30d) AS all_30d, sum(spend_90d) AS all_90d FROM base
),
category_spend AS (
    SELECT {group_key}, c.category, sum(c.affinity_score) AS spend
    FROM members AS m
    JOIN intermediate{suffix}.int_user_categories_ranked AS c USING (user_id)
    WHERE c.affinity_basis = 'order_item_spend'
    GROUP BY ALL
),
top_categories AS (
    SELECT {group_key}, string_agg(category, ', ' ORDER BY spend DESC, category) AS top_categories
    FROM (SELECT *, row_number() OVER (PARTITION BY {group_key} ORDER BY spend DESC, category) AS n
          FROM category_spend)
    WHERE n <= 3
    GROUP BY ALL
)
SELECT
    {group_columns},
    any_value(base.as_of_date) AS as_of_date,
    count(*) AS users,
    round(count(*) / any_value(all_users), 4) AS share,
    round(sum(spend_30d), 2) AS revenue_30d,
    round(sum(spend_30d) / nullif(any_value(all_30d), 0), 4) AS revenue_share_30d,
    round(sum(spend_90d), 2) AS revenue_90d,
    round(sum(spend_90d) / nullif(any_value(all_90d), 0), 4) AS revenue_share_90d,
    round(sum(monetary) / nullif(sum(frequency), 0), 2) AS avg_order_value,
    round(count(*) FILTER (WHERE frequency >= 2) / nullif(count(*) FILTER (WHERE frequency >= 1), 0), 4)
        AS repurchase_rate,
    round(sum(purchase_sessions) / nullif(sum(sessions), 0), 4) AS purchase_conversion_rate,
    round(avg(churn_probability), 4) AS mean_churn_probability,
    any_value(top_categories.top_categories) AS top_categories,
    median(recency_days) AS median_recency_days,
    median(frequency) AS median_orders,
    round(median(monetary), 2) AS median_spend,
    median(sessions_90d) AS median_sessions_90d
FROM base
CROSS JOIN totals
LEFT JOIN top_categories USING ({group_key})
GROUP BY {group_columns}
"""

GROUPINGS = {
    "segment_summary": ("segment_id", "segment_id, segment_name"),
    "rfm_summary": ("rfm_segment", "rfm_segment"),
}


def kpi_sql(table: str, as_of: date, suffix: str = "") -> str:
    group_key, group_columns = GROUPINGS[table]
    return KPI_SQL.format(group_key=group_key, group_columns=group_columns, as_of=as_of.isoformat(), suffix=suffix)


def record_summaries(con: duckdb.DuckDBPyConnection, as_of: date, suffix: str = "") -> dict[str, int]:
    """Summaries of the history slice for `as_of`, from the features built with dbt schema suffix `suffix`."""
    ensure_history(con)
    return {table: replace_slice(con, f"history.{table}", as_of, kpi_sql(table, as_of, suffix)) for table in GROUPINGS}
