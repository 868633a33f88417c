-- Clean orders: the rows of base_shop__orders_checked that passed every
-- data-quality rule (the others are in quarantine.quarantine_shop__orders),
-- cut at the as-of date.
with

clean_orders as (

    select order_id, user_id, status, amount, items, ordered_at, _source_file, _source_row
    from {{ ref('base_shop__orders_checked') }}
    where is_clean

)

select * from clean_orders
where {{ before_as_of_end('ordered_at') }}
