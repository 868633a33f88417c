-- Clean order lines: the rows of base_shop__order_items_checked that passed
-- every data-quality rule (the others are in quarantine.quarantine_shop__order_items).
with

clean_order_items as (

    select order_id, product_id, category, quantity, unit_price, _source_file, _source_row
    from {{ ref('base_shop__order_items_checked') }}
    where is_clean

)

-- Order lines carry no timestamp: the as-of cut applies through the join to
-- stg_shop__orders downstream.
select * from clean_order_items
