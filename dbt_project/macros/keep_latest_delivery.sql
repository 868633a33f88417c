{#-
    Deduplicate on `key` (one column or a comma-separated list), keeping the
    last delivered row: the latest landing file, then the latest row in it.
-#}
{% macro keep_latest_delivery(key) -%}
    qualify row_number() over (
        partition by {{ key }}
        order by _source_file desc nulls last, _source_row desc nulls last
    ) = 1
{%- endmacro %}
