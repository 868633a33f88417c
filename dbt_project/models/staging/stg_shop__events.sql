-- Clean events: the rows of base_shop__events_checked that passed every
-- data-quality rule (the others are in quarantine.quarantine_shop__events),
-- cut at the as-of date.
with

clean_events as (

    select
        event_id, user_id, session_id, product_id, event_type, category,
        duration_seconds, occurred_at, _source_file, _source_row
    from {{ ref('base_shop__events_checked') }}
    where is_clean

)

select * from clean_events
where {{ before_as_of_end('occurred_at') }}
