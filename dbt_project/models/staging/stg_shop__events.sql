with

source as (

    select
        event_id, user_id, event_type, occurred_at, session_id, product_id,
        category, duration_seconds, _source_file, _source_row
    from {{ source('raw', 'events') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_cast('event_id', 'varchar') }} as event_id,
        {{ clean_cast('user_id', 'varchar') }} as user_id,
        {{ clean_cast('session_id', 'varchar') }} as session_id,
        {{ clean_cast('product_id', 'varchar') }} as product_id,

        ---------- dimensions
        {{ normalize_event_type('event_type') }} as event_type,
        {{ normalize_label('category') }} as category,

        ---------- numerics
        {{ clean_cast('duration_seconds', 'double') }} as duration_seconds,

        ---------- timestamps
        {{ clean_cast('occurred_at', 'timestamp') }} as occurred_at,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row

    from source

)

select * from renamed
where event_id is not null
    and user_id is not null
    and occurred_at is not null
    and {{ before_as_of_end('occurred_at') }}
{{ keep_latest_delivery('event_id') }}
