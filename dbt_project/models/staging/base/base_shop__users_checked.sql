-- Every row of raw.users, typed and cleaned, with its data-quality verdict
-- (rules and their order: docs block dq_rules). stg_shop__users keeps the
-- clean rows, quarantine_shop__users the quarantined ones.
-- Explicit column list (`columns`, the only ones dq_delivered_rows selects):
-- raw.users also holds PII (email, phone, ...) that must never leave the raw
-- schema. Never `select *` from the source here.
{%- set columns = ['user_id', 'signup_at', 'country', 'birth_year', 'gender', 'acquisition_channel'] %}
{%- set key = ['user_id'] %}
{#- Incremental: re-checks the rows of the keys in new landing files (macros/incremental_checks.sql). #}
{{ config(unique_key=key) }}

-- `not materialized`: checked reads flagged (so typed and source) twice, once
-- per branch (dq_checked_rows); materialized, DuckDB would hold every row in memory.
with

source as not materialized (

    {{ dq_delivered_rows(rows_to_check(source('raw', 'users'), columns, key), columns, key) }}

),

typed as not materialized (

    select
        ---------- ids
        {{ clean_cast('user_id', 'varchar') }} as user_id,

        ---------- dimensions
        {{ clean_cast('country', 'varchar') }} as country,
        {{ normalize_label('gender') }} as gender,
        {{ normalize_label('acquisition_channel') }} as acquisition_channel,

        ---------- numerics
        {{ clean_cast('birth_year', 'integer') }} as birth_year,

        ---------- timestamps
        {{ clean_cast('signup_at', 'timestamp') }} as signup_at,

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
            {{ dq_missing('raw_user_id', 'missing_id') }}
            {{ dq_timestamp_rules('raw_signup_at', typed='signup_at') }}
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
