{#-
    Cast a raw column of any type (VARCHAR or native) to `data_type`:
    trim, blank -> NULL, and try_cast so bad values become NULL instead of failing.
-#}
{% macro clean_cast(column, data_type) -%}
    try_cast(nullif(trim(cast({{ column }} as varchar)), '') as {{ data_type }})
{%- endmacro %}

{#-
    Lower/trim a label, optionally turn runs of spaces/hyphens into underscores,
    map synonyms to canonical values and fall back to `default` for NULL/blank.
-#}
{% macro normalize_label(column, synonyms={}, underscores=false, default=none) -%}
    {%- set cleaned = "nullif(lower(trim(cast(" ~ column ~ " as varchar))), '')" -%}
    {%- if underscores -%}
        {%- set cleaned = "regexp_replace(" ~ cleaned ~ ", '[\\s\\-]+', '_', 'g')" -%}
    {%- endif -%}
    {%- if synonyms -%}
        {%- set mapped -%}
            case {{ cleaned }}
                {%- for source_value, canonical in synonyms.items() %}
                when '{{ source_value }}' then '{{ canonical }}'
                {%- endfor %}
                else {{ cleaned }}
            end
        {%- endset -%}
    {%- else -%}
        {%- set mapped = cleaned -%}
    {%- endif -%}
    {%- if default is none -%}
        {{ mapped }}
    {%- else -%}
        coalesce({{ mapped }}, '{{ default }}')
    {%- endif -%}
{%- endmacro %}

{% macro normalize_order_status(column) -%}
    {{ normalize_label(column, synonyms={
        'complete': 'completed', 'paid': 'completed', 'delivered': 'completed', 'shipped': 'completed',
        'canceled': 'cancelled',
        'returned': 'refunded',
    }, default='completed') }}
{%- endmacro %}

{% macro normalize_event_type(column) -%}
    {{ normalize_label(column, synonyms={
        'pageview': 'page_view', 'view': 'page_view',
        'add_to_basket': 'add_to_cart', 'cart': 'add_to_cart',
        'order': 'purchase',
        'sign_up': 'signup', 'add_to_wishlist': 'wishlist',
    }, underscores=true) }}
{%- endmacro %}
