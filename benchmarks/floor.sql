-- The floor: main per-user aggregates in ONE DuckDB query, straight from the landing files.
-- No typing rules, quarantine, tests or orchestration: the least work that yields a feature table
-- comparable to marts.user_features (recency, frequency, monetary, tenure, activity, sessions,
-- events per type, 30/90-day windows, basket, reviews). {orders}, {order_items}, {events},
-- {users} and {reviews} are replaced by DuckDB file lists by floor.py.
CREATE TABLE user_aggregates AS
WITH
orders AS (SELECT * FROM read_csv({orders}, header = true)),
events AS (SELECT * FROM read_csv({events}, header = true)),
as_of AS (
    SELECT greatest((SELECT max(ordered_at) FROM orders), (SELECT max(occurred_at) FROM events))::DATE AS d
),
per_order_user AS (
    SELECT
        user_id,
        count(*) FILTER (WHERE status = 'completed') AS frequency,
        coalesce(sum(amount) FILTER (WHERE status = 'completed'), 0) AS monetary,
        avg(amount) FILTER (WHERE status = 'completed') AS avg_order_value,
        max(ordered_at) FILTER (WHERE status = 'completed') AS last_order_at,
        count(*) FILTER (WHERE status = 'completed' AND ordered_at > (SELECT d FROM as_of) - INTERVAL 30 DAY) AS orders_30d,
        count(*) FILTER (WHERE status = 'completed' AND ordered_at > (SELECT d FROM as_of) - INTERVAL 90 DAY) AS orders_90d,
        coalesce(sum(amount) FILTER (WHERE status = 'completed' AND ordered_at > (SELECT d FROM as_of) - INTERVAL 90 DAY), 0) AS spend_90d,
        avg(CASE WHEN status = 'refunded' THEN 1 ELSE 0 END) AS refund_share,
        min(ordered_at) AS first_order_at
    FROM orders GROUP BY user_id
),
per_event_user AS (
    SELECT
        user_id,
        count(*) AS events,
        count(DISTINCT session_id) AS sessions,
        count(DISTINCT session_id) FILTER (WHERE occurred_at > (SELECT d FROM as_of) - INTERVAL 90 DAY) AS sessions_90d,
        count(*) FILTER (WHERE occurred_at > (SELECT d FROM as_of) - INTERVAL 30 DAY) AS events_30d,
        count(*) FILTER (WHERE event_type = 'page_view') AS page_views,
        count(*) FILTER (WHERE event_type = 'product_view') AS product_views,
        count(*) FILTER (WHERE event_type = 'search') AS searches,
        count(*) FILTER (WHERE event_type = 'add_to_cart') AS add_to_carts,
        count(*) FILTER (WHERE event_type = 'checkout') AS checkouts,
        count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
        min(occurred_at) AS first_event_at,
        max(occurred_at) AS last_event_at
    FROM events GROUP BY user_id
),
per_basket_user AS (
    SELECT o.user_id, sum(i.quantity) AS items_bought, count(DISTINCT i.category) AS distinct_categories,
           mode(i.category) AS favourite_category
    FROM read_csv({order_items}, header = true) AS i JOIN orders AS o USING (order_id)
    GROUP BY o.user_id
),
per_review_user AS (
    SELECT user_id, count(*) AS review_count, avg(rating) AS mean_rating
    FROM read_csv({reviews}, header = true) GROUP BY user_id
),
users AS (SELECT user_id, signup_at, country, acquisition_channel FROM read_csv({users}, header = true))
SELECT
    u.user_id,
    (SELECT d FROM as_of) AS as_of_date,
    date_diff('day', least(u.signup_at, o.first_order_at, e.first_event_at)::DATE, (SELECT d FROM as_of)) AS tenure_days,
    date_diff('day', o.last_order_at::DATE, (SELECT d FROM as_of)) AS recency_days,
    coalesce(o.frequency, 0) AS frequency,
    coalesce(o.monetary, 0) AS monetary,
    coalesce(o.avg_order_value, 0) AS avg_order_value,
    coalesce(o.orders_30d, 0) AS orders_30d,
    coalesce(o.orders_90d, 0) AS orders_90d,
    coalesce(o.spend_90d, 0) AS spend_90d,
    coalesce(o.refund_share, 0) AS refund_share,
    coalesce(e.events, 0) AS events,
    coalesce(e.sessions, 0) AS sessions,
    coalesce(e.sessions_90d, 0) AS sessions_90d,
    coalesce(e.events_30d, 0) AS events_30d,
    coalesce(e.events / nullif(e.sessions, 0), 0) AS events_per_session,
    coalesce(e.add_to_carts / nullif(e.product_views, 0), 0) AS add_to_cart_rate,
    coalesce(e.purchases / nullif(e.sessions, 0), 0) AS purchase_conversion_rate,
    coalesce(e.page_views, 0) AS page_views,
    coalesce(e.searches, 0) AS searches,
    coalesce(e.checkouts, 0) AS checkouts,
    date_diff('day', greatest(o.last_order_at, e.last_event_at)::DATE, (SELECT d FROM as_of)) AS days_since_last_activity,
    coalesce(b.items_bought, 0) AS items_bought,
    coalesce(b.distinct_categories, 0) AS distinct_categories,
    b.favourite_category,
    coalesce(r.review_count, 0) AS review_count,
    r.mean_rating,
    u.country,
    u.acquisition_channel
FROM users AS u
LEFT JOIN per_order_user AS o USING (user_id)
LEFT JOIN per_event_user AS e USING (user_id)
LEFT JOIN per_basket_user AS b USING (user_id)
LEFT JOIN per_review_user AS r USING (user_id)
