{#-
    Deliveries in "latest first" order: the latest landing file, then the
    latest row in it. The one ordering used for keeping the last delivered
    record (keep_latest_delivery), for keeping one copy of exact duplicates
    and for picking the winner of a duplicate_id_conflict (data_quality.sql).
-#}
{% macro latest_delivery_first() -%}
    _source_file desc nulls last, _source_row desc nulls last
{%- endmacro %}

{#-
    Deduplicate on `key` (one column or a comma-separated list), keeping the
    last delivered row: the latest landing file, then the latest row in it.
-#}
{% macro keep_latest_delivery(key) -%}
    qualify row_number() over (
        partition by {{ key }}
        order by {{ latest_delivery_first() }}
    ) = 1
{%- endmacro %}
