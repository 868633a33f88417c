{#-
    Deliveries in "latest first" order: the latest landing file, then the
    latest row in it. The one ordering used for keeping one copy of exact
    duplicates and for picking the winner of a duplicate_id_conflict
    (data_quality.sql), so the rows left clean hold one row per key: the
    last delivered version. The staging models rely on that and add no window
    of their own; their `unique` tests check it.
-#}
{% macro latest_delivery_first() -%}
    _source_file desc nulls last, _source_row desc nulls last
{%- endmacro %}
