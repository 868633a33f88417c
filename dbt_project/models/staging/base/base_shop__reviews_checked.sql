-- Every row of raw.reviews, typed and cleaned, with its data-quality verdict
-- (rules and their order: docs block dq_rules). stg_shop__reviews keeps the
-- clean rows, quarantine_shop__reviews the quarantined ones.
{%- set columns = ['review_id', 'user_id', 'product_id', 'rating', 'text', 'created_at'] %}
{%- set key = ['review_id'] %}
{#- Incremental: re-checks the rows of the keys in new landing files (macros/incremental_checks.sql). #}
{{ config(unique_key=key) }}

-- `not materialized`: checked reads flagged (so typed and source) twice, once
-- per branch (dq_checked_rows); materialized, DuckDB would hold every row in memory.
with

source as not materialized (

    {{ dq_delivered_rows(rows_to_check(source('raw', 'reviews'), columns, key), columns, key) }}

),

typed as not materialized (

    select
        ---------- ids
        {{ clean_cast('review_id', 'varchar') }} as review_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ clean_cast('"text"', 'varchar') }} as review_text,

        ---------- numerics
        {{ clean_cast('rating', 'integer') }} as rating,

        ---------- timestamps
        {{ clean_cast('created_at', 'timestamp') }} as created_at,

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
            {{ dq_missing('raw_review_id', 'missing_id') }}
            {{ dq_missing('raw_user_id', 'missing_user_id') }}
            {{ dq_timestamp_rules('raw_created_at', typed='created_at') }}
            {{ dq_rating_rules('raw_rating') }}
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
