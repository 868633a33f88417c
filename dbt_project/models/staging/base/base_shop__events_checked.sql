-- Every row of raw.events, typed and cleaned, with its data-quality verdict
-- (rules and their order: docs block dq_rules). stg_shop__events keeps the
-- clean rows, quarantine_shop__events the quarantined ones. Accepted event
-- types: seed accepted_event_types.
{%- set columns = [
    'event_id', 'user_id', 'event_type', 'occurred_at', 'session_id', 'product_id',
    'category', 'duration_seconds',
] %}
{%- set key = ['event_id'] %}
{#- Incremental: re-checks the rows of the keys in new landing files (macros/incremental_checks.sql). #}
{{ config(unique_key=key) }}

-- `not materialized`: checked reads flagged (so typed and source) twice, once
-- per branch (dq_checked_rows); materialized, DuckDB would hold every row in memory.
with

source as not materialized (

    {{ dq_delivered_rows(rows_to_check(source('raw', 'events'), columns, key), columns, key) }}

),

typed as not materialized (

    select
        ---------- ids
        {{ clean_cast('event_id', 'varchar') }} as event_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,
        {{ clean_cast('session_id', 'varchar') }} as session_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ normalize_event_type('event_type') }} as event_type,
        {{ normalize_label('category') }} as category,

        ---------- numerics
        {{ clean_cast('duration_seconds', 'double') }} as duration_seconds,

        ---------- timestamps
        {{ clean_cast('occurred_at', 'timestamp') }} as occurred_at,

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
            {{ dq_missing('raw_event_id', 'missing_id') }}
            {{ dq_missing('raw_user_id', 'missing_user_id') }}
            {{ dq_timestamp_rules('raw_occurred_at', typed='occurred_at') }}
            {#- event_type: normalize_event_type(raw_event_type), computed once in `typed` #}
            {{ dq_not_accepted(
                'event_type',
                'select event_type from ' ~ ref('accepted_event_types'),
                'unknown_event_type'
            ) }}
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
