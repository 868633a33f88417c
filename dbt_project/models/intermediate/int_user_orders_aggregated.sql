with

orders as (

    select order_id, user_id, status, amount, ordered_at
    from {{ ref('stg_shop__orders') }}

),

completed_orders as (

    select * from orders where status = 'completed'

),

status_counts as (

    select
        user_id,
        count(*) filter (where status = 'completed') as completed_orders,
        count(*) filter (where status = 'refunded') as refunded_orders,
        count(*) filter (where status = 'cancelled') as cancelled_orders
    from orders
    group by user_id

),

completed_summary as (

    select
        user_id,
        count(*) as frequency,
        coalesce(sum(amount), 0) as monetary,
        count(*) filter (where {{ in_last_days('ordered_at', 30) }}) as orders_30d,
        count(*) filter (where {{ in_last_days('ordered_at', 90) }}) as orders_90d,
        coalesce(sum(amount) filter (where {{ in_last_days('ordered_at', 30) }}), 0) as spend_30d,
        coalesce(sum(amount) filter (where {{ in_last_days('ordered_at', 90) }}), 0) as spend_90d,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at
    from completed_orders
    group by user_id

),

btyd as (

    select * from {{ ref('int_user_purchase_days_summarized') }}

),

aggregated as (

    select
        status_counts.user_id,
        coalesce(completed_summary.frequency, 0) as frequency,
        coalesce(completed_summary.monetary, 0) as monetary,
        coalesce({{ safe_divide('completed_summary.monetary', 'completed_summary.frequency') }}, 0) as avg_order_value,
        coalesce(completed_summary.orders_30d, 0) as orders_30d,
        coalesce(completed_summary.orders_90d, 0) as orders_90d,
        coalesce(completed_summary.spend_30d, 0) as spend_30d,
        coalesce(completed_summary.spend_90d, 0) as spend_90d,
        status_counts.refunded_orders,
        status_counts.cancelled_orders,
        coalesce({{ safe_divide(
            'status_counts.refunded_orders',
            'status_counts.completed_orders + status_counts.refunded_orders'
        ) }}, 0) as refund_share,
        case when completed_summary.frequency >= 2 then {{ safe_divide(
            days_between('completed_summary.first_order_at', 'completed_summary.last_order_at'),
            'completed_summary.frequency - 1'
        ) }} end as mean_days_between_orders,
        coalesce(btyd.btyd_frequency, 0) as btyd_frequency,
        coalesce(btyd.btyd_recency, 0) as btyd_recency,
        coalesce(btyd.btyd_t, 0) as btyd_t,
        coalesce(btyd.btyd_monetary_value, 0) as btyd_monetary_value,
        completed_summary.first_order_at,
        completed_summary.last_order_at
    from status_counts
    left join completed_summary on completed_summary.user_id = status_counts.user_id
    left join btyd on btyd.user_id = status_counts.user_id

)

select * from aggregated
