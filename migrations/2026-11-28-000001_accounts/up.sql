-- Accounts, sessions and the transactional outbox every notification is delivered from.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored normalised (trimmed, lower-cased) so the unique constraint is the duplicate check.
    email         text NOT NULL CONSTRAINT users_email_key UNIQUE,
    password_hash text NOT NULL,
    display_name  text NOT NULL,
    bio           text,
    avatar_url    text,
    time_zone     text NOT NULL DEFAULT 'UTC',
    is_admin      boolean NOT NULL DEFAULT false,
    disabled_at   timestamptz,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens are opaque; only their SHA-256 is stored. A family is one login's chain of rotations:
-- presenting a used token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE password_reset_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL CONSTRAINT password_reset_tokens_token_hash_key UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id);

-- Transactional outbox: written in the same transaction as the change it reports; a deliverer claims
-- rows (FOR UPDATE SKIP LOCKED), sends them (email, in-app, stream, webhooks) and marks them delivered.
CREATE TABLE outbox_events (
    id             uuid PRIMARY KEY,
    event_type     text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    recipients     uuid[] NOT NULL DEFAULT '{}',
    payload        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    available_at   timestamptz NOT NULL DEFAULT now(),
    attempts       integer NOT NULL DEFAULT 0,
    claimed_at     timestamptz,
    claimed_by     text,
    delivered_at   timestamptz,
    last_error     text
);
CREATE INDEX outbox_events_pending_idx ON outbox_events (available_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_events_aggregate_idx ON outbox_events (aggregate_type, aggregate_id);
