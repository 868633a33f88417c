with

events as (

    select user_id, session_key, event_type, occurred_at
    from {{ ref('int_events_sessionized') }}

),

sessions as (

    -- One pass over the events: each session with its own event counts, so the per-user
    -- event figures below come from the sessions instead of a second scan of every event.
    select
        user_id,
        session_key,
        min(occurred_at) as session_started_at,
        max(occurred_at) as session_last_event_at,
        count(*) as session_events,
        count(*) filter (where {{ in_last_days('occurred_at', 30) }}) as session_events_30d,
        count(*) filter (where {{ in_last_days('occurred_at', 90) }}) as session_events_90d,
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
        count(*) filter (where has_purchase) as purchase_sessions,
        cast(sum(session_events) as bigint) as total_events,
        cast(sum(session_events_30d) as bigint) as events_30d,
        cast(sum(session_events_90d) as bigint) as events_90d,
        max(session_last_event_at) as last_event_at
    from sessions
    group by user_id

),

aggregated as (

    select
        session_summary.user_id,
        session_summary.sessions_30d,
        session_summary.sessions_90d,
        session_summary.events_30d,
        session_summary.events_90d,
        session_summary.total_sessions,
        session_summary.total_events,
        coalesce({{ safe_divide('session_summary.total_events', 'session_summary.total_sessions') }}, 0)
            as events_per_session,
        coalesce({{ safe_divide('session_summary.add_to_cart_sessions', 'session_summary.total_sessions') }}, 0)
            as add_to_cart_rate,
        coalesce({{ safe_divide('session_summary.purchase_sessions', 'session_summary.total_sessions') }}, 0)
            as purchase_conversion_rate,
        session_summary.last_event_at
    from session_summary

)

select * from aggregated
