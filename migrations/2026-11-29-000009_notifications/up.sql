-- The outbox is fanned out: each event becomes one delivery per (recipient, channel), and the retry
-- state lives on those deliveries. The event keeps only when it was fanned out.
DROP INDEX outbox_events_pending_idx;
ALTER TABLE outbox_events
    DROP COLUMN available_at,
    DROP COLUMN attempts,
    DROP COLUMN claimed_at,
    DROP COLUMN claimed_by,
    DROP COLUMN last_error;
ALTER TABLE outbox_events RENAME COLUMN delivered_at TO dispatched_at;
CREATE INDEX outbox_events_undispatched_idx ON outbox_events (id) WHERE dispatched_at IS NULL;

-- One (event, recipient, channel) is delivered once: the unique key is what keeps two workers, or a
-- worker restarted mid-batch, from fanning an event out twice. A pending row is due at
-- `next_attempt_at`; a worker that claims it pushes that time past its lease, so a crash mid-send
-- makes the row due again rather than losing it.
CREATE TABLE notification_deliveries (
    id              uuid PRIMARY KEY,
    event_id        uuid NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    recipient_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel         text NOT NULL CHECK (channel IN ('email', 'in_app')),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Set on new-message mail only: the order whose messages are batched into one mail.
    batch_order_id  uuid,
    CONSTRAINT notification_deliveries_once UNIQUE (event_id, recipient_id, channel)
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_dead_idx ON notification_deliveries (id) WHERE status = 'dead';
-- New-message mail is batched per order: the last one sent to a recipient for an order decides
-- when the next may leave.
CREATE INDEX notification_deliveries_batch_idx ON notification_deliveries (recipient_id, batch_order_id)
    WHERE batch_order_id IS NOT NULL;

-- The in-app inbox, written by the worker from the same event as the email.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id    uuid NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    event_type  text NOT NULL,
    order_id    uuid,
    title       text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    CONSTRAINT notifications_once UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE read_at IS NULL;

-- Only a user's departures from the defaults are stored.
CREATE TABLE notification_preferences (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_type  text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'in_app')),
    enabled     boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, event_type, channel)
);

-- Verified addresses. Accounts made before verification existed had no way to verify, so they are
-- taken as verified rather than locked out of their own orders.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;

CREATE TABLE email_verification_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address this token verifies: a token sent before an address change verifies nothing.
    email       text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX email_verification_tokens_user_idx ON email_verification_tokens (user_id);
