-- raw.order_items rows that failed a data-quality rule, values as delivered (VARCHAR).
select
    raw_order_id as order_id,
    raw_product_id as product_id,
    raw_category as category,
    raw_quantity as quantity,
    raw_unit_price as unit_price,
    quarantine_reason,
    _source_file,
    _source_row
from {{ ref('base_shop__order_items_checked') }}
where quarantine_reason is not null
order by _source_file, _source_row
