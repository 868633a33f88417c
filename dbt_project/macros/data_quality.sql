{#-
    Row-level data-quality rules, used by the models in models/staging/base/
    (base_shop__<table>s_checked). The rule order and the reason codes are
    documented in the docs block `dq_rules` (models/quality/_quality__docs.md).

    The rule macros return `when ... then '<reason>'` branches for one CASE
    expression; the first failing branch gives the row its reason. They work on
    the raw values as delivered, cast to VARCHAR (columns `raw_<column>`, see
    as_delivered), so they behave the same for CSV text and native Parquet types.

    Every model has the same skeleton: source (dq_delivered_rows) -> typed ->
    flagged (failed_rule) -> checked (dq_checked_rows) -> the final select.
    The models are incremental: dq_delivered_rows reads rows_to_check, the raw
    table in a full build, only the rows to re-check in an incremental one
    (incremental_checks.sql).
-#}

{#- `cast(<column> as varchar) as raw_<column>` for every column: the values as delivered. -#}
{% macro as_delivered(columns) -%}
    {%- for column in columns %}
        cast({{ adapter.quote(column) }} as varchar) as {{ adapter.quote('raw_' ~ column) }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#-
    The delivered rows of `relation`: `columns` and the lineage columns
    (_source_file, _source_row), plus `key_is_repeated`: true when the row's
    `key` (a list of id columns) occurs in more than one row. The key is
    compared as typed, clean_cast(column, 'varchar'), which must stay the way
    typed types the key columns (else a conflict could go unseen): ' o1' and
    'o1' are the same key, and all NULL/blank keys are one key.

    Exact duplicates (the same values in every column, the key included) and
    duplicate_id_conflicts (a later delivery of the same key) need another row
    with the same key, so only rows with key_is_repeated can be either:
    dq_checked_rows runs the window functions on those rows alone, usually a
    small share of the table, instead of sorting every row twice.
-#}
{% macro dq_delivered_rows(relation, columns, key) -%}
    {%- set typed_key = [] -%}
    {%- for column in key -%}
        {%- do typed_key.append(clean_cast(adapter.quote(column), 'varchar')) -%}
    {%- endfor %}
    select
        {%- for column in columns %}
        {{ adapter.quote(column) }},
        {%- endfor %}
        _source_file,
        _source_row,
        repeated_keys.key_is_repeated is not null as key_is_repeated
    from {{ relation }}
    left join (
        select
            {%- for expression in typed_key %}
            {{ expression }} as repeated_key_{{ loop.index }},
            {%- endfor %}
            true as key_is_repeated
        from {{ relation }}
        group by all
        having count(*) > 1
    ) as repeated_keys
        on {% for expression in typed_key -%}
            {{ expression }} is not distinct from repeated_keys.repeated_key_{{ loop.index }}
            {{- ' and ' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#-
    True for every copy of an exact duplicate except the last delivered one:
    same as-delivered values (raw_<column>, see as_delivered) in every column of
    `columns`; the lineage columns are not compared. NULLs compare equal here.
-#}
{% macro is_exact_duplicate(columns) -%}
    (row_number() over (
        partition by {% for column in columns %}{{ adapter.quote('raw_' ~ column) }}{{ ', ' if not loop.last }}{% endfor %}
        order by {{ latest_delivery_first() }}
    ) > 1)
{%- endmacro %}

{#- The value trimmed, blank -> NULL. -#}
{% macro dq_present(column) -%}
    nullif(trim(cast({{ column }} as varchar)), '')
{%- endmacro %}

{#- The value as DOUBLE, NULL when blank or not a number. -#}
{% macro dq_number(column) -%}
    try_cast({{ dq_present(column) }} as double)
{%- endmacro %}

{#- The latest acceptable timestamp: the run's wall-clock time (UTC) plus one day. -#}
{% macro dq_future_cutoff() -%}
    (timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' + interval 1 day)
{%- endmacro %}

{#- NULL or blank value -> `reason` (missing_id, missing_user_id). -#}
{% macro dq_missing(column, reason) -%}
    when {{ dq_present(column) }} is null then '{{ reason }}'
{%- endmacro %}

{#-
    missing_timestamp, unparseable_timestamp, future_timestamp (in that order).
    `typed`: a column in scope that already holds clean_cast(column, 'timestamp'); the rules
    then read it instead of parsing the text twice more (seconds per 10M rows).
-#}
{% macro dq_timestamp_rules(column, typed=none) -%}
    {%- set parsed = typed if typed is not none else clean_cast(column, 'timestamp') -%}
    when {{ dq_present(column) }} is null then 'missing_timestamp'
    when {{ parsed }} is null then 'unparseable_timestamp'
    when {{ parsed }} > {{ dq_future_cutoff() }} then 'future_timestamp'
{%- endmacro %}

{#-
    Rules for a present numeric value (NULL/blank passes as NULL):
    not a finite number (or, with whole=true, not a whole number) -> non_numeric,
    < 0 -> negative, > ceiling (when given) -> above_ceiling.
-#}
{% macro dq_numeric_rules(column, non_numeric, negative, above_ceiling=none, ceiling=none, whole=false) -%}
    {%- set number = dq_number(column) -%}
    when {{ dq_present(column) }} is not null
        and ({{ number }} is null or not isfinite({{ number }})
             {%- if whole %} or {{ number }} <> floor({{ number }}){% endif %})
        then '{{ non_numeric }}'
    when {{ number }} < 0 then '{{ negative }}'
    {%- if ceiling is not none %}
    when {{ number }} > {{ ceiling }} then '{{ above_ceiling }}'
    {%- endif %}
{%- endmacro %}

{#- orders.amount, order_items.unit_price: non_numeric_amount, negative_amount, amount_above_ceiling. -#}
{% macro dq_amount_rules(column) -%}
    {{ dq_numeric_rules(
        column, 'non_numeric_amount', 'negative_amount',
        above_ceiling='amount_above_ceiling', ceiling=var('amount_ceiling')
    ) }}
{%- endmacro %}

{#- order_items.quantity: non_numeric_quantity (incl. fractions like 1.5), negative_quantity. -#}
{% macro dq_quantity_rules(column) -%}
    {{ dq_numeric_rules(column, 'non_numeric_quantity', 'negative_quantity', whole=true) }}
{%- endmacro %}

{#- A present rating that is not a whole number from 1 to 5 -> rating_out_of_range. -#}
{% macro dq_rating_rules(column) -%}
    {%- set number = dq_number(column) -%}
    when {{ dq_present(column) }} is not null
        and not coalesce({{ number }} = floor({{ number }}) and {{ number }} between 1 and 5, false)
        then 'rating_out_of_range'
{%- endmacro %}

{#- `expression` (already normalised) NULL or not among `allowed` (a list or a subquery) -> `reason`. -#}
{% macro dq_not_accepted(expression, allowed, reason) -%}
    {%- if allowed is string -%}
        {%- set allowed_sql = allowed -%}
    {%- else -%}
        {%- set allowed_sql -%}
            {%- for value in allowed %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor -%}
        {%- endset -%}
    {%- endif %}
    when coalesce({{ expression }} not in ({{ allowed_sql }}), true) then '{{ reason }}'
{%- endmacro %}

{#-
    The final verdict of a row, from `is_exact_duplicate` and `failed_rule`
    (the first failing rule, NULL if none) in scope:
    NULL for exact duplicates (dropped, counted, never quarantined); the failed
    rule; else duplicate_id_conflict when a later delivery of the same `key`
    also passed every rule (the last delivered version wins); else NULL (clean).
-#}
{% macro dq_quarantine_reason(key) -%}
    case
        when is_exact_duplicate then null
        when failed_rule is not null then failed_rule
        when row_number() over (
            partition by (is_exact_duplicate or failed_rule is not null), {{ key }}
            order by {{ latest_delivery_first() }}
        ) > 1 then 'duplicate_id_conflict'
    end
{%- endmacro %}

{#-
    The verdict of every row of `relation` (the model's `flagged`: typed rows
    with `failed_rule` and `key_is_repeated`, see dq_delivered_rows): all its
    columns except those two, then is_exact_duplicate and quarantine_reason.

    A row whose `key` occurs once is no exact duplicate and has no conflicting
    delivery: its verdict is its failed rule, no window function needed. The
    rows whose key is repeated get is_exact_duplicate and dq_quarantine_reason;
    their windows partition by the key (or by every column, the key included),
    so each window sees the same rows as it would over the whole table.

    Both branches read `relation`: declare it, and the CTEs it reads, `as not
    materialized`. Else DuckDB keeps a copy of every row in memory; inlined,
    each branch's key_is_repeated filter is pushed below typed, so each branch
    types and checks its own rows only.
-#}
{% macro dq_checked_rows(relation, columns, key) -%}
    -- key delivered once: the first failed rule decides
    select
        * exclude (failed_rule, key_is_repeated),
        false as is_exact_duplicate,
        failed_rule as quarantine_reason
    from {{ relation }}
    where not key_is_repeated

    union all by name

    -- key delivered more than once: exact duplicates, then rules, then conflicts
    select
        * exclude (failed_rule, key_is_repeated),
        {{ dq_quarantine_reason(key | join(', ')) }} as quarantine_reason
    from (
        select
            *,
            {{ is_exact_duplicate(columns) }} as is_exact_duplicate
        from {{ relation }}
        where key_is_repeated
    )
{%- endmacro %}

{#-
    `* replace (...)` keeping the as-delivered raw_<column> values only on
    quarantined rows (NULL on clean rows and exact duplicates): the quarantine
    tables need them, nobody else does, and NULL columns cost no storage.
-#}
{% macro keep_raw_values_of_quarantined_rows(columns) -%}
    * replace (
        {%- for column in columns %}
        case when quarantine_reason is not null then {{ adapter.quote('raw_' ~ column) }} end
            as {{ adapter.quote('raw_' ~ column) }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
