with

-- Explicit column list: raw.users also holds PII (email, phone, ...) that must
-- never leave the raw schema. Never `select *` here.
source as (

    select user_id, signup_at, country, birth_year, gender, acquisition_channel, _source_file, _source_row
    from {{ source('raw', 'users') }}

),

renamed as (

    select
        ---------- ids
        {{ clean_cast('user_id', 'varchar') }} as user_id,

        ---------- dimensions
        {{ clean_cast('country', 'varchar') }} as country,
        {{ normalize_label('gender') }} as gender,
        {{ normalize_label('acquisition_channel') }} as acquisition_channel,

        ---------- numerics
        {{ clean_cast('birth_year', 'integer') }} as birth_year,

        ---------- timestamps
        {{ clean_cast('signup_at', 'timestamp') }} as signup_at,

        ---------- lineage
        {{ clean_cast('_source_file', 'varchar') }} as _source_file,
        {{ clean_cast('_source_row', 'bigint') }} as _source_row

    from source

)

select * from renamed
where user_id is not null
    and signup_at is not null
    and {{ before_as_of_end('signup_at') }}
{{ keep_latest_delivery('user_id') }}
