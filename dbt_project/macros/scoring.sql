{#- numerator / denominator as DOUBLE; NULL when the denominator is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#-
    Quintile score 1..5 that gives ties the same score deterministically:
    least(5, 1 + floor(5 * percent_rank())) over `order_by` (highest values of the
    ordering get 5).
-#}
{% macro quintile_score(order_by) -%}
    cast(least(5, 1 + floor(5 * percent_rank() over (order by {{ order_by }}))) as integer)
{%- endmacro %}
