-- raw.users rows that failed a data-quality rule, values as delivered (VARCHAR).
-- Canonical columns only: the PII columns of raw.users never leave raw.
select
    raw_user_id as user_id,
    raw_signup_at as signup_at,
    raw_country as country,
    raw_birth_year as birth_year,
    raw_gender as gender,
    raw_acquisition_channel as acquisition_channel,
    quarantine_reason,
    _source_file,
    _source_row
from {{ ref('base_shop__users_checked') }}
where quarantine_reason is not null
order by _source_file, _source_row
