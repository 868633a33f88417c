-- Clean reviews: the rows of base_shop__reviews_checked that passed every
-- data-quality rule (the others are in quarantine.quarantine_shop__reviews),
-- cut at the as-of date.
with

clean_reviews as (

    select review_id, user_id, product_id, review_text, rating, created_at, _source_file, _source_row
    from {{ ref('base_shop__reviews_checked') }}
    where is_clean

)

select * from clean_reviews
where {{ before_as_of_end('created_at') }}
