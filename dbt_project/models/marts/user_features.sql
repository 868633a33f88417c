with

users as (

    select * from {{ ref('int_users_unioned') }}

),

orders as (

    select * from {{ ref('int_user_orders_aggregated') }}

),

sessions as (

    select * from {{ ref('int_user_sessions_aggregated') }}

),

favourite_categories as (

    select user_id, category, category_share
    from {{ ref('int_user_categories_ranked') }}
    where category_rank = 1

),

reviews as (

    select * from {{ ref('int_user_reviews_scored') }}

),

final as (

    select
        cast(users.user_id as varchar) as user_id,
        {{ as_of_date() }} as as_of_date,
        cast(users.signup_at as timestamp) as signup_at,
        cast(users.first_seen_at as timestamp) as first_seen_at,
        cast(users.country as varchar) as country,
        cast(users.acquisition_channel as varchar) as acquisition_channel,
        cast({{ days_between('users.first_seen_at', as_of_date()) }} as integer) as tenure_days,
        cast({{ days_between('orders.last_order_at', as_of_date()) }} as integer) as recency_days,
        cast(coalesce(orders.frequency, 0) as integer) as frequency,
        cast(coalesce(orders.monetary, 0) as double) as monetary,
        cast(coalesce(orders.avg_order_value, 0) as double) as avg_order_value,
        cast(coalesce(orders.orders_30d, 0) as integer) as orders_30d,
        cast(coalesce(orders.orders_90d, 0) as integer) as orders_90d,
        cast(coalesce(orders.spend_30d, 0) as double) as spend_30d,
        cast(coalesce(orders.spend_90d, 0) as double) as spend_90d,
        cast(coalesce(orders.refund_share, 0) as double) as refund_share,
        cast(orders.mean_days_between_orders as double) as mean_days_between_orders,
        cast(coalesce(sessions.sessions_30d, 0) as integer) as sessions_30d,
        cast(coalesce(sessions.sessions_90d, 0) as integer) as sessions_90d,
        cast(coalesce(sessions.events_30d, 0) as integer) as events_30d,
        cast(coalesce(sessions.events_90d, 0) as integer) as events_90d,
        cast(coalesce(sessions.events_per_session, 0) as double) as events_per_session,
        cast(coalesce(sessions.add_to_cart_rate, 0) as double) as add_to_cart_rate,
        cast(coalesce(sessions.purchase_conversion_rate, 0) as double) as purchase_conversion_rate,
        cast({{ days_between('users.last_activity_at', as_of_date()) }} as integer) as days_since_last_activity,
        cast(favourite_categories.category as varchar) as favourite_category,
        cast(coalesce(favourite_categories.category_share, 0) as double) as favourite_category_share,
        cast(coalesce(reviews.review_count, 0) as integer) as review_count,
        cast(reviews.mean_rating as double) as mean_rating,
        cast(coalesce(reviews.sentiment_score, 0) as double) as sentiment_score,
        cast(coalesce(orders.btyd_frequency, 0) as integer) as btyd_frequency,
        cast(coalesce(orders.btyd_recency, 0) as integer) as btyd_recency,
        cast(coalesce(orders.btyd_t, 0) as integer) as btyd_t,
        cast(coalesce(orders.btyd_monetary_value, 0) as double) as btyd_monetary_value
    from users
    left join orders on orders.user_id = users.user_id
    left join sessions on sessions.user_id = users.user_id
    left join favourite_categories on favourite_categories.user_id = users.user_id
    left join reviews on reviews.user_id = users.user_id

)

select * from final
