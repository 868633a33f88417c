with

source as (

    select review_id, user_id, product_id, rating, "text", created_at, _source_file, _source_row
    from {{ source('raw', 'reviews') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_cast('review_id', 'varchar') }} as review_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ clean_cast('"text"', 'varchar') }} as review_text,

        ---------- numerics
        {{ clean_cast('rating', 'integer') }} as rating,

        ---------- timestamps
        {{ clean_cast('created_at', 'timestamp') }} as created_at,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row

    from source

)

select * from renamed
where review_id is not null
    and user_id is not null
    and created_at is not null
    and {{ before_as_of_end('created_at') }}
{{ keep_latest_delivery('review_id') }}
