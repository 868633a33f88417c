-- raw.orders rows that failed a data-quality rule, values as delivered (VARCHAR).
select
    raw_order_id as order_id,
    raw_user_id as user_id,
    raw_ordered_at as ordered_at,
    raw_amount as amount,
    raw_status as status,
    raw_items as items,
    quarantine_reason,
    _source_file,
    _source_row
from {{ ref('base_shop__orders_checked') }}
where quarantine_reason is not null
order by _source_file, _source_row
