-- Row counts per landing table: delivered, exact duplicates (dropped),
-- quarantined and clean. All five tables always have a row (zeros when empty).
{%- set checked_models = [
    ('orders', 'base_shop__orders_checked'),
    ('order_items', 'base_shop__order_items_checked'),
    ('events', 'base_shop__events_checked'),
    ('users', 'base_shop__users_checked'),
    ('reviews', 'base_shop__reviews_checked'),
] %}

with

counted as (
{% for table_name, model in checked_models %}
    select
        '{{ table_name }}' as table_name,
        {{ loop.index }} as table_order,
        count(*) as raw_rows,
        count(*) filter (where is_exact_duplicate) as exact_duplicate_rows,
        count(quarantine_reason) as quarantined_rows,
        count(*) filter (where is_clean) as clean_rows
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}

)

select
    table_name,
    raw_rows,
    exact_duplicate_rows,
    quarantined_rows,
    coalesce({{ safe_divide('quarantined_rows', 'raw_rows - exact_duplicate_rows') }}, 0) as quarantine_share,
    clean_rows
from counted
order by table_order
