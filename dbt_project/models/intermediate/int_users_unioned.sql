with

users as (

    select user_id, signup_at, country, acquisition_channel
    from {{ ref('stg_shop__users') }}

),

activity as (

    select user_id, ordered_at as activity_at from {{ ref('stg_shop__orders') }}
    union all
    select user_id, occurred_at as activity_at from {{ ref('stg_shop__events') }}
    union all
    select user_id, created_at as activity_at from {{ ref('stg_shop__reviews') }}

),

activity_bounds as (

    select
        user_id,
        min(activity_at) as first_activity_at,
        max(activity_at) as last_activity_at
    from activity
    group by user_id

),

user_ids as (

    select user_id from users
    union
    select user_id from activity_bounds

),

unioned as (

    select
        user_ids.user_id,
        users.country,
        users.acquisition_channel,
        users.signup_at,
        -- least/greatest ignore NULLs in DuckDB
        least(users.signup_at, activity_bounds.first_activity_at) as first_seen_at,
        greatest(users.signup_at, activity_bounds.last_activity_at) as last_activity_at
    from user_ids
    left join users on users.user_id = user_ids.user_id
    left join activity_bounds on activity_bounds.user_id = user_ids.user_id

)

select * from unioned
