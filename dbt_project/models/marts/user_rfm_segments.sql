with

features as (

    select user_id, as_of_date, tenure_days, recency_days, frequency, monetary, days_since_last_activity
    from {{ ref('user_features') }}

),

buyer_scores as (

    -- quintiles over buyers only; most recent -> r_score 5
    select
        user_id,
        {{ quintile_score('recency_days desc') }} as r_score,
        {{ quintile_score('frequency asc') }} as f_score,
        {{ quintile_score('monetary asc') }} as m_score
    from features
    where frequency >= 1

),

combined_scores as (

    select
        *,
        -- round((f + m) / 2) half up
        cast(floor((f_score + m_score) / 2.0 + 0.5) as integer) as fm_score
    from buyer_scores

),

segment_map as (

    select r_score, fm_score, rfm_segment
    from {{ ref('rfm_segment_map') }}

),

final as (

    select
        cast(features.user_id as varchar) as user_id,
        cast(features.as_of_date as date) as as_of_date,
        combined_scores.r_score,
        combined_scores.f_score,
        combined_scores.m_score,
        combined_scores.fm_score,
        cast(
            case
                when combined_scores.user_id is null then 'No Purchases'
                else segment_map.rfm_segment
            end as varchar
        ) as rfm_segment,
        cast(
            case
                when features.tenure_days < {{ var('new_customer_days') }} then 'new'
                when features.recency_days < {{ var('active_days') }} then 'active'
                when features.days_since_last_activity >= {{ var('churn_days') }} then 'churned'
                else 'silent'
            end as varchar
        ) as lifecycle_stage
    from features
    left join combined_scores on combined_scores.user_id = features.user_id
    left join segment_map
        on segment_map.r_score = combined_scores.r_score
        and segment_map.fm_score = combined_scores.fm_score

)

select * from final
