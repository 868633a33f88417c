"""Who moved between segments: the published `segment_migration` table and `segment_moves` macro.

Users present on only one of the two dates appear as moving from "(new user)" or to "(not present)".
"""

from __future__ import annotations

MOVES_SQL = """
SELECT
    CAST({from_date} AS DATE) AS from_date,
    CAST({to_date} AS DATE) AS to_date,
    CAST(prev.segment_id AS INTEGER) AS from_segment_id,
    coalesce(prev.segment_name, '(new user)') AS from_segment_name,
    CAST(cur.segment_id AS INTEGER) AS to_segment_id,
    coalesce(cur.segment_name, '(not present)') AS to_segment_name,
    count(*) AS users
FROM (SELECT * FROM {history} WHERE as_of_date = {from_date}) AS prev
FULL OUTER JOIN (SELECT * FROM {history} WHERE as_of_date = {to_date}) AS cur USING (user_id)
WHERE {from_date} IS NOT NULL AND {to_date} IS NOT NULL
GROUP BY ALL
HAVING count(*) >= {min_group_size}
ORDER BY from_segment_id NULLS FIRST, to_segment_id NULLS LAST
"""


def latest_migration_sql(history: str) -> str:
    """Moves between the two latest dates in `history` (no rows when there is only one date); unsuppressed."""
    latest = f"(SELECT max(as_of_date) FROM {history})"
    previous = f"(SELECT max(as_of_date) FROM {history} WHERE as_of_date < {latest})"
    return MOVES_SQL.format(from_date=previous, to_date=latest, history=history, min_group_size=1)


def moves_macro_sql(min_group_size: int) -> str:
    """`segment_moves(from_date, to_date)`: the same table for any two dates, suppressed like the rest."""
    body = MOVES_SQL.format(from_date="CAST(from_date AS DATE)", to_date="CAST(to_date AS DATE)",
                            history="segment_history", min_group_size=int(min_group_size))
    return f"CREATE OR REPLACE MACRO segment_moves(from_date, to_date) AS TABLE {body}"
