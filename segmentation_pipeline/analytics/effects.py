"""How each segment converted after an as-of date: `history.segment_effects`.

For consecutive history dates P < N, the users in each segment on P, and what they did in (P, N]:
share that completed an order and revenue per user, beside the same figures for everyone else,
so a campaign aimed at a segment on P can be read against the rest.
"""

from __future__ import annotations

from datetime import date

import duckdb

EFFECTS_SQL = """
WITH dates AS (
    SELECT as_of_date, lead(as_of_date) OVER (ORDER BY as_of_date) AS next_as_of_date
    FROM (SELECT DISTINCT as_of_date FROM history.segment_history)
),
pairs AS (
    SELECT * FROM dates
    WHERE next_as_of_date IS NOT NULL AND (as_of_date IN ({dates}) OR next_as_of_date IN ({dates}))
),
members AS (
    SELECT h.user_id, h.segment_id, h.segment_name, p.as_of_date, p.next_as_of_date
    FROM history.segment_history AS h JOIN pairs AS p USING (as_of_date)
),
outcomes AS (
    SELECT m.as_of_date, m.user_id, count(o.order_id) AS orders, coalesce(sum(o.amount), 0) AS revenue
    FROM members AS m
    LEFT JOIN staging.stg_shop__orders AS o
        ON o.user_id = m.user_id AND o.status = 'completed'
        AND o.ordered_at >= m.as_of_date + INTERVAL 1 DAY AND o.ordered_at < m.next_as_of_date + INTERVAL 1 DAY
    GROUP BY ALL
),
per_segment AS (
    SELECT m.as_of_date, m.next_as_of_date, m.segment_id, any_value(m.segment_name) AS segment_name,
           count(*) AS users, count(*) FILTER (WHERE o.orders > 0) AS purchasers, sum(o.revenue) AS revenue
    FROM members AS m JOIN outcomes AS o USING (as_of_date, user_id)
    GROUP BY ALL
),
everyone AS (
    SELECT as_of_date, sum(users) AS users, sum(purchasers) AS purchasers, sum(revenue) AS revenue
    FROM per_segment GROUP BY ALL
)
SELECT
    s.as_of_date, s.next_as_of_date, s.segment_id, s.segment_name, s.users, s.purchasers,
    CAST(round(s.revenue, 2) AS DOUBLE) AS revenue,
    round(s.purchasers / s.users, 4) AS purchase_rate,
    CAST(round(s.revenue / s.users, 2) AS DOUBLE) AS revenue_per_user,
    round((e.purchasers - s.purchasers) / nullif(e.users - s.users, 0), 4) AS rest_purchase_rate,
    CAST(round((e.revenue - s.revenue) / nullif(e.users - s.users, 0), 2) AS DOUBLE) AS rest_revenue_per_user,
    round(s.purchasers / s.users - (e.purchasers - s.purchasers) / nullif(e.users - s.users, 0), 4)
        AS purchase_rate_vs_rest
FROM per_segment AS s JOIN everyone AS e USING (as_of_date)
"""


def record_effects(con: duckdb.DuckDBPyConnection, touched: list[date]) -> int:
    """Recompute the periods that start or end on a touched date (their membership or orders changed)."""
    dates = ", ".join(f"DATE '{d.isoformat()}'" for d in touched) or "NULL"
    select = EFFECTS_SQL.format(dates=dates)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS history.segment_effects AS SELECT * FROM ({select}) LIMIT 0")
        con.execute(f"DELETE FROM history.segment_effects WHERE as_of_date IN ({dates}) OR next_as_of_date IN ({dates})")
        con.execute(f"INSERT INTO history.segment_effects BY NAME {select}")
        rows = con.execute("SELECT count(*) FROM history.segment_effects").fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows
