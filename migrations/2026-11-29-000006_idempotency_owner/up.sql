-- Who holds a key in flight: a random token per claim. A claim reclaimed after a minute gets a new
-- owner, so the slow request that held it before can neither record its answer nor free the key.
ALTER TABLE idempotency_keys ADD COLUMN owner uuid NOT NULL DEFAULT gen_random_uuid();
