with

source as (

    select order_id, product_id, category, quantity, unit_price, _source_file, _source_row
    from {{ source('raw', 'order_items') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_cast('order_id', 'varchar') }} as order_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ normalize_label('category') }} as category,

        ---------- numerics
        {{ clean_cast('quantity', 'integer') }} as quantity,
        {{ clean_cast('unit_price', 'decimal(18, 4)') }} as unit_price,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row

    from source

)

-- Order lines carry no timestamp: the as-of cut applies through the join to
-- stg_shop__orders downstream.
select * from renamed
where order_id is not null
    and product_id is not null
{{ keep_latest_delivery('order_id, product_id') }}
