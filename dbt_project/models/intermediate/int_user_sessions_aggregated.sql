with

events as (

    select user_id, session_key, event_type, occurred_at
    from {{ ref('int_events_sessionized') }}

),

sessions as (

    select
        user_id,
        session_key,
        min(occurred_at) as session_started_at,
        coalesce(bool_or(event_type = 'add_to_cart'), false) as has_add_to_cart,
        coalesce(bool_or(event_type = 'purchase'), false) as has_purchase
    from events
    group by user_id, session_key

),

session_summary as (

    select
        user_id,
        count(*) as total_sessions,
        count(*) filter (where {{ in_last_days('session_started_at', 30) }}) as sessions_30d,
        count(*) filter (where {{ in_last_days('session_started_at', 90) }}) as sessions_90d,
        count(*) filter (where has_add_to_cart) as add_to_cart_sessions,
        count(*) filter (where has_purchase) as purchase_sessions
    from sessions
    group by user_id

),

event_summary as (

    select
        user_id,
        count(*) as total_events,
        count(*) filter (where {{ in_last_days('occurred_at', 30) }}) as events_30d,
        count(*) filter (where {{ in_last_days('occurred_at', 90) }}) as events_90d,
        max(occurred_at) as last_event_at
    from events
    group by user_id

),

aggregated as (

    select
        session_summary.user_id,
        session_summary.sessions_30d,
        session_summary.sessions_90d,
        event_summary.events_30d,
        event_summary.events_90d,
        session_summary.total_sessions,
        event_summary.total_events,
        coalesce({{ safe_divide('event_summary.total_events', 'session_summary.total_sessions') }}, 0)
            as events_per_session,
        coalesce({{ safe_divide('session_summary.add_to_cart_sessions', 'session_summary.total_sessions') }}, 0)
            as add_to_cart_rate,
        coalesce({{ safe_divide('session_summary.purchase_sessions', 'session_summary.total_sessions') }}, 0)
            as purchase_conversion_rate,
        event_summary.last_event_at
    from session_summary
    inner join event_summary on event_summary.user_id = session_summary.user_id

)

select * from aggregated
