{#- True for timestamps strictly before as_of_end. Every staging model filters with it. -#}
{% macro before_as_of_end(column) -%}
    ({{ column }} < {{ as_of_end() }})
{%- endmacro %}

{#- True for timestamps in [as_of_end - N days, as_of_end). -#}
{% macro in_last_days(column, days) -%}
    ({{ column }} >= {{ as_of_end() }} - interval ({{ days }}) day and {{ column }} < {{ as_of_end() }})
{%- endmacro %}

{#- Whole calendar days from the date of `start` to the date of `end` (end - start). -#}
{% macro days_between(start, end) -%}
    date_diff('day', cast({{ start }} as date), cast({{ end }} as date))
{%- endmacro %}
