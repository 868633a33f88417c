-- Every row of raw.orders, typed and cleaned, with its data-quality verdict
-- (rules and their order: docs block dq_rules). stg_shop__orders keeps the
-- clean rows, quarantine_shop__orders the quarantined ones.
{%- set columns = ['order_id', 'user_id', 'ordered_at', 'amount', 'status', 'items'] %}
{%- set key = ['order_id'] %}
{#- Incremental: re-checks the rows of the keys in new landing files (macros/incremental_checks.sql). #}
{{ config(unique_key=key) }}

-- `not materialized`: checked reads flagged (so typed and source) twice, once
-- per branch (dq_checked_rows); materialized, DuckDB would hold every row in memory.
with

source as not materialized (

    {{ dq_delivered_rows(rows_to_check(source('raw', 'orders'), columns, key), columns, key) }}

),

typed as not materialized (

    select
        ---------- ids
        {{ clean_cast('order_id', 'varchar') }} as order_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,

        ---------- dimensions
        {{ normalize_order_status('status') }} as status,

        ---------- numerics
        {{ clean_cast('amount', 'decimal(18, 4)') }} as amount,
        {{ clean_cast('items', 'integer') }} as items,

        ---------- timestamps
        {{ clean_cast('ordered_at', 'timestamp') }} as ordered_at,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row,

        ---------- row check: another row has the same key (dq_delivered_rows)
        key_is_repeated,

        ---------- as delivered (VARCHAR): input of the rules and of the quarantine
        {{ as_delivered(columns) }}

    from source

),

flagged as not materialized (

    select
        *,
        case
            {{ dq_missing('raw_order_id', 'missing_id') }}
            {{ dq_missing('raw_user_id', 'missing_user_id') }}
            {{ dq_timestamp_rules('raw_ordered_at', typed='ordered_at') }}
            {{ dq_amount_rules('raw_amount') }}
            {#- status: normalize_order_status(raw_status), computed once in `typed` #}
            {{ dq_not_accepted('status', ['completed', 'cancelled', 'refunded'], 'unknown_status') }}
        end as failed_rule
    from typed

),

checked as (

    {{ dq_checked_rows('flagged', columns, key) }}

)

select
    {{ keep_raw_values_of_quarantined_rows(columns) }},
    (not is_exact_duplicate and quarantine_reason is null) as is_clean
from checked
