{#-
    The as-of date of a run, as a SQL DATE literal.
    Required at execution time: the var `as_of_date` (--vars '{as_of_date: YYYY-MM-DD}'), else the
    environment variable SEGMENTATION_DBT_AS_OF_DATE. The pipeline's nightly build uses the
    variable: a --vars value that changes every night would make dbt re-parse the whole project.
    The environment is read only at execution, so parsing never depends on it.
    During parsing (execute is false) a placeholder is returned so that
    `dbt parse` / `dbt ls` work without either.
-#}
{% macro as_of_date() -%}
    {%- set raw_value = var('as_of_date', '') -%}
    {%- set value = '' if raw_value is none else (raw_value | string | trim) -%}
    {%- if execute -%}
        {%- if value == '' -%}
            {%- set value = env_var('SEGMENTATION_DBT_AS_OF_DATE', '') | trim -%}
        {%- endif -%}
        {%- if value == '' -%}
            {{ exceptions.raise_compiler_error(
                "The as-of date is not set: pass --vars '{as_of_date: YYYY-MM-DD}' "
                ~ "(e.g. dbt build --vars '{\"as_of_date\": \"2024-03-31\"}') or set SEGMENTATION_DBT_AS_OF_DATE."
            ) }}
        {%- elif not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
            {{ exceptions.raise_compiler_error(
                "The as-of date must look like YYYY-MM-DD, got '" ~ value ~ "': "
                ~ "pass --vars '{as_of_date: YYYY-MM-DD}' or set SEGMENTATION_DBT_AS_OF_DATE."
            ) }}
        {%- endif -%}
    {%- else -%}
        {%- set value = '1970-01-01' -%}
    {%- endif -%}
    date '{{ value }}'
{%- endmacro %}

{#- Exclusive upper bound of the observation window: as_of_date + 1 day, as TIMESTAMP. -#}
{% macro as_of_end() -%}
    cast({{ as_of_date() }} + interval 1 day as timestamp)
{%- endmacro %}
