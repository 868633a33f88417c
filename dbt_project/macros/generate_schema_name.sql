{#-
    Use the custom schema name as-is (`staging`, not `main_staging`).
    The var `schema_suffix` builds a second copy of the as-of-dependent models side by side,
    e.g. the features as of an earlier date for churn training (`marts_churn_train`). Seeds
    and the row checks in staging/base do not depend on the as-of date: they are shared,
    never copied.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set shared = node.resource_type == 'seed' or 'base' in node.fqn[:-1] -%}
    {%- set suffix = '' if shared else var('schema_suffix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}{{ suffix }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ suffix }}
    {%- endif -%}
{%- endmacro %}
