-- Every row of raw.reviews, typed and cleaned, with its data-quality verdict
-- (rules and their order: docs block dq_rules). stg_shop__reviews keeps the
-- clean rows, quarantine_shop__reviews the quarantined ones.
{%- set columns = ['review_id', 'user_id', 'product_id', 'rating', 'text', 'created_at'] %}

with

source as (

    select {% for column in columns %}{{ adapter.quote(column) }}, {% endfor %}_source_file, _source_row
    from {{ source('raw', 'reviews') }}

),

typed as (

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

        ---------- as delivered (VARCHAR): input of the rules and of the quarantine
        {{ as_delivered(columns) }}

    from source

),

flagged as (

    select
        *,
        {{ is_exact_duplicate(columns) }} as is_exact_duplicate,
        case
            {{ dq_missing('raw_review_id', 'missing_id') }}
            {{ dq_missing('raw_user_id', 'missing_user_id') }}
            {{ dq_timestamp_rules('raw_created_at') }}
            {{ dq_rating_rules('raw_rating') }}
        end as failed_rule
    from typed

),

checked as (

    select
        * exclude (failed_rule),
        {{ dq_quarantine_reason('review_id') }} as quarantine_reason
    from flagged

)

select
    {{ keep_raw_values_of_quarantined_rows(columns) }},
    (not is_exact_duplicate and quarantine_reason is null) as is_clean
from checked
