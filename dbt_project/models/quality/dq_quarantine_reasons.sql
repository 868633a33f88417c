-- Quarantined rows per landing table and reason, with the first quarantined
-- row (by file, then row) as an example. Only reasons that occurred.
{%- set quarantine_models = [
    ('orders', 'quarantine_shop__orders'),
    ('order_items', 'quarantine_shop__order_items'),
    ('events', 'quarantine_shop__events'),
    ('users', 'quarantine_shop__users'),
    ('reviews', 'quarantine_shop__reviews'),
] %}

with

quarantined as (
{% for table_name, model in quarantine_models %}
    select '{{ table_name }}' as table_name, quarantine_reason, _source_file, _source_row
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}

)

select
    table_name,
    quarantine_reason,
    count(*) as rows,
    first(_source_file order by _source_file nulls last, _source_row nulls last) as example_source_file,
    first(_source_row order by _source_file nulls last, _source_row nulls last) as example_source_row
from quarantined
group by table_name, quarantine_reason
order by table_name, quarantine_reason
