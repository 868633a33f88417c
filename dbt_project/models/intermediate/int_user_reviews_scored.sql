with

reviews as (

    select review_id, user_id, rating, review_text
    from {{ ref('stg_shop__reviews') }}

),

lexicon as (

    select lower(trim(word)) as word, polarity
    from {{ ref('sentiment_lexicon') }}

),

review_words as (

    select
        review_id,
        unnest(regexp_extract_all(lower(review_text), '[a-z]+')) as word
    from reviews
    where review_text is not null

),

word_hits as (

    select
        review_words.review_id,
        count(*) filter (where lexicon.polarity > 0) as positive_hits,
        count(*) filter (where lexicon.polarity < 0) as negative_hits
    from review_words
    inner join lexicon on lexicon.word = review_words.word
    group by review_words.review_id

),

review_scores as (

    select
        reviews.user_id,
        reviews.rating,
        -- (rating - 3) / 2 maps 1..5 to -1..1; clamped, 0 when the rating is missing
        coalesce(greatest(-1.0, least(1.0, (reviews.rating - 3) / 2.0)), 0) as rating_score,
        coalesce({{ safe_divide(
            'word_hits.positive_hits - word_hits.negative_hits',
            'word_hits.positive_hits + word_hits.negative_hits'
        ) }}, 0) as lexicon_score
    from reviews
    left join word_hits on word_hits.review_id = reviews.review_id

),

scored as (

    select
        user_id,
        count(*) as review_count,
        avg(rating) as mean_rating,
        -- rounded: a float average depends on summation order, which parallel scans do not fix
        round(avg(0.5 * rating_score + 0.5 * lexicon_score), 9) as sentiment_score
    from review_scores
    group by user_id

)

select * from scored
