-- Clean users: the rows of base_shop__users_checked that passed every
-- data-quality rule (the others are in quarantine.quarantine_shop__users),
-- cut at the as-of date. Explicit column list: no PII (email, phone, ...)
-- ever leaves the raw schema.
with

clean_users as (

    select user_id, country, gender, acquisition_channel, birth_year, signup_at, _source_file, _source_row
    from {{ ref('base_shop__users_checked') }}
    where is_clean

)

select * from clean_users
where {{ before_as_of_end('signup_at') }}
