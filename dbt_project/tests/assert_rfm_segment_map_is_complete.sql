-- The RFM map must name a segment for every (r_score, fm_score) pair in 1..5 x 1..5.
with

expected as (
    select r.r_score, fm.fm_score
    from range(1, 6) as r(r_score)
    cross join range(1, 6) as fm(fm_score)
)

select expected.*
from expected
left join {{ ref('rfm_segment_map') }} as segment_map
    on segment_map.r_score = expected.r_score
    and segment_map.fm_score = expected.fm_score
where segment_map.rfm_segment is null
