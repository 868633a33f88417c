-- raw.reviews rows that failed a data-quality rule, values as delivered (VARCHAR).
select
    raw_review_id as review_id,
    raw_user_id as user_id,
    raw_product_id as product_id,
    raw_rating as rating,
    raw_text as "text",
    raw_created_at as created_at,
    quarantine_reason,
    _source_file,
    _source_row
from {{ ref('base_shop__reviews_checked') }}
where quarantine_reason is not null
order by _source_file, _source_row
