-- The response headers a replay must repeat (Location, ETag), so any endpoint can be idempotent
-- without the replay knowing its URLs.
ALTER TABLE idempotency_keys ADD COLUMN response_headers jsonb NOT NULL DEFAULT '{}';
