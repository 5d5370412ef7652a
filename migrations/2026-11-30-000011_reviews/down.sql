DROP TABLE user_ratings;
DROP TABLE reviews;
DROP INDEX orders_creative_reputation_idx;
ALTER TABLE orders
    DROP COLUMN completed_at,
    DROP COLUMN first_response_at,
    DROP COLUMN first_delivered_at,
    DROP COLUMN first_delivery_on_time;
