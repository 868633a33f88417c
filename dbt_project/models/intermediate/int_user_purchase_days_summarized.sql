-- BTYD summary exactly as lifetimes.utils.summary_data_from_transaction_data(
--   completed orders, freq='D', observation_period_end=as_of_date, monetary_value_col='amount')
with

completed_orders as (

    select user_id, amount, ordered_at
    from {{ ref('stg_shop__orders') }}
    where status = 'completed'

),

purchase_days as (

    -- purchases on the same calendar day count as one period; amounts are summed
    select
        user_id,
        cast(ordered_at as date) as purchase_day,
        coalesce(sum(amount), 0) as day_amount
    from completed_orders
    group by user_id, cast(ordered_at as date)

),

numbered_days as (

    select
        *,
        row_number() over (partition by user_id order by purchase_day) as day_number
    from purchase_days

),

summarized as (

    select
        user_id,
        count(*) - 1 as btyd_frequency,
        {{ days_between('min(purchase_day)', 'max(purchase_day)') }} as btyd_recency,
        {{ days_between('min(purchase_day)', as_of_date()) }} as btyd_t,
        -- mean over repeat purchase days (all but the first); 0 when there are none
        coalesce(avg(day_amount) filter (where day_number > 1), 0) as btyd_monetary_value
    from numbered_days
    group by user_id

)

select * from summarized
