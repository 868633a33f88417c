with

source as (

    select order_id, user_id, ordered_at, amount, status, items, _source_file, _source_row
    from {{ source('raw', 'orders') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_cast('order_id', 'varchar') }} as order_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,

        ---------- dimensions
        {{ normalize_order_status('status') }} as status,

        ---------- numerics
        {{ clean_cast('amount', 'decimal(18, 4)') }} as amount,
        {{ clean_cast('items', 'integer') }} as items,

        ---------- timestamps
        {{ clean_cast('ordered_at', 'timestamp') }} as ordered_at,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row

    from source

)

select * from renamed
where order_id is not null
    and user_id is not null
    and ordered_at is not null
    and {{ before_as_of_end('ordered_at') }}
{{ keep_latest_delivery('order_id') }}
