-- dq_table_counts must have exactly the five landing tables, its counts must
-- add up (raw = exact duplicates + quarantined + clean) and agree with
-- dq_quarantine_reasons. Returns the offending tables.
-- The meta attaches this test to dq_table_counts as a Dagster asset check.
{{ config(meta={"dagster": {"ref": {"name": "dq_table_counts"}}}) }}

with

expected_tables as (
    select table_name
    from (values ('orders'), ('order_items'), ('events'), ('users'), ('reviews')) as t(table_name)
),

reasons as (
    select table_name, sum("rows") as quarantined_rows
    from {{ ref('dq_quarantine_reasons') }}
    group by table_name
)

select
    coalesce(expected_tables.table_name, counts.table_name) as table_name,
    counts.raw_rows,
    counts.exact_duplicate_rows,
    counts.quarantined_rows,
    counts.clean_rows,
    reasons.quarantined_rows as quarantined_rows_by_reason
from expected_tables
full outer join {{ ref('dq_table_counts') }} as counts
    on counts.table_name = expected_tables.table_name
left join reasons
    on reasons.table_name = coalesce(expected_tables.table_name, counts.table_name)
where expected_tables.table_name is null
    or counts.table_name is null
    or counts.raw_rows <> counts.exact_duplicate_rows + counts.quarantined_rows + counts.clean_rows
    or counts.quarantined_rows <> coalesce(reasons.quarantined_rows, 0)
