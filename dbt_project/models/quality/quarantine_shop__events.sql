-- raw.events rows that failed a data-quality rule, values as delivered (VARCHAR).
select
    raw_event_id as event_id,
    raw_user_id as user_id,
    raw_event_type as event_type,
    raw_occurred_at as occurred_at,
    raw_session_id as session_id,
    raw_product_id as product_id,
    raw_category as category,
    raw_duration_seconds as duration_seconds,
    quarantine_reason,
    _source_file,
    _source_row
from {{ ref('base_shop__events_checked') }}
where quarantine_reason is not null
order by _source_file, _source_row
