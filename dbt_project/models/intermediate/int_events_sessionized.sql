-- Events with a per-user session key: the tracker's session_id when present;
-- otherwise events without a session_id are grouped by inactivity, a new
-- session starting when the gap since the user's previous session-less event
-- exceeds session_gap_minutes. Only the session-less events go through the
-- window functions (they sort by user and time); the others pass straight on.
with

-- stg_shop__events is referenced once per branch, not through a shared CTE: DuckDB would
-- materialise a CTE used twice (every event copied once more, ~15 s at 53M events), and a view
-- does not keep a `not materialized` hint.
tracked as (

    select
        event_id,
        user_id,
        'id:' || session_id as session_key,
        event_type,
        category,
        occurred_at
    from {{ ref('stg_shop__events') }}
    where session_id is not null

),

gaps as (

    select
        event_id,
        user_id,
        event_type,
        category,
        occurred_at,
        lag(occurred_at) over (
            partition by user_id
            order by occurred_at, event_id
        ) as previous_occurred_at
    from {{ ref('stg_shop__events') }}
    where session_id is null

),

flagged as (

    select
        *,
        case
            when previous_occurred_at is null then 1
            when occurred_at - previous_occurred_at
                > interval '{{ var("session_gap_minutes") }} minutes' then 1
            else 0
        end as starts_inferred_session
    from gaps

),

numbered as (

    select
        *,
        sum(starts_inferred_session) over (
            partition by user_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as inferred_session_number
    from flagged

),

inferred as (

    select
        event_id,
        user_id,
        'gap:' || cast(inferred_session_number as varchar) as session_key,
        event_type,
        category,
        occurred_at
    from numbered

)

select * from tracked
union all
select * from inferred
