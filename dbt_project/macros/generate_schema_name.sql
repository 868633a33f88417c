{#-
    Use the custom schema name as-is (`staging`, not `main_staging`).
    The var `schema_suffix` builds a second copy of the models side by side, e.g. the
    features as of an earlier date for churn training (`marts_churn_train`). Seeds are
    static lookups and are shared, never copied.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set suffix = '' if node.resource_type == 'seed' else var('schema_suffix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}{{ suffix }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ suffix }}
    {%- endif -%}
{%- endmacro %}
