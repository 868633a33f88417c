-- Every row of raw.order_items, typed and cleaned, with its data-quality
-- verdict (rules and their order: docs block dq_rules). stg_shop__order_items
-- keeps the clean rows, quarantine_shop__order_items the quarantined ones.
-- Order lines carry no timestamp, so no timestamp rules apply.
{%- set columns = ['order_id', 'product_id', 'category', 'quantity', 'unit_price'] %}
{%- set key = ['order_id', 'product_id'] %}
{#- Incremental: re-checks the rows of the keys in new landing files (macros/incremental_checks.sql). #}
{{ config(unique_key=key) }}

-- `not materialized`: checked reads flagged (so typed and source) twice, once
-- per branch (dq_checked_rows); materialized, DuckDB would hold every row in memory.
with

source as not materialized (

    {{ dq_delivered_rows(rows_to_check(source('raw', 'order_items'), columns, key), columns, key) }}

),

typed as not materialized (

    select
        ---------- ids
        {{ clean_cast('order_id', 'varchar') }} as order_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ normalize_label('category') }} as category,

        ---------- numerics
        {{ clean_cast('quantity', 'integer') }} as quantity,
        {{ clean_cast('unit_price', 'decimal(18, 4)') }} as unit_price,

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
            {{ dq_missing('raw_product_id', 'missing_id') }}
            {{ dq_amount_rules('raw_unit_price') }}
            {{ dq_quantity_rules('raw_quantity') }}
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
