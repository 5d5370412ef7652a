DROP TABLE email_verification_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
DROP TABLE notification_preferences;
DROP TABLE notifications;
DROP TABLE notification_deliveries;
DROP INDEX outbox_events_undispatched_idx;
ALTER TABLE outbox_events RENAME COLUMN dispatched_at TO delivered_at;
ALTER TABLE outbox_events
    ADD COLUMN available_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN claimed_at timestamptz,
    ADD COLUMN claimed_by text,
    ADD COLUMN last_error text;
CREATE INDEX outbox_events_pending_idx ON outbox_events (available_at) WHERE delivered_at IS NULL;
