-- Category affinity: spend per category on completed orders; users without
-- any item spend fall back to counts of their events that carry a category.
with

completed_orders as (

    select order_id, user_id
    from {{ ref('stg_shop__orders') }}
    where status = 'completed'

),

order_items as (

    select order_id, category, quantity, unit_price
    from {{ ref('stg_shop__order_items') }}
    where category is not null

),

events as (

    select user_id, category
    from {{ ref('stg_shop__events') }}
    where category is not null

),

item_spend as (

    select
        completed_orders.user_id,
        order_items.category,
        coalesce(sum(coalesce(order_items.quantity, 1) * order_items.unit_price), 0) as affinity_score
    from order_items
    inner join completed_orders on completed_orders.order_id = order_items.order_id
    group by completed_orders.user_id, order_items.category

),

spenders as (

    select user_id
    from item_spend
    group by user_id
    having sum(affinity_score) > 0

),

event_counts as (

    select
        events.user_id,
        events.category,
        cast(count(*) as double) as affinity_score
    from events
    left join spenders on spenders.user_id = events.user_id
    where spenders.user_id is null
    group by events.user_id, events.category

),

scored as (

    select item_spend.*, 'order_item_spend' as affinity_basis
    from item_spend
    inner join spenders on spenders.user_id = item_spend.user_id
    union all
    select event_counts.*, 'event_count' as affinity_basis
    from event_counts

),

ranked as (

    select
        user_id,
        category,
        affinity_basis,
        affinity_score,
        {{ safe_divide('affinity_score', 'sum(affinity_score) over (partition by user_id)') }} as category_share,
        row_number() over (
            partition by user_id
            order by affinity_score desc, category asc
        ) as category_rank
    from scored

)

select * from ranked
