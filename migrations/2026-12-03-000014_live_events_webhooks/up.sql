-- The live stream's position of each event: the id of the transaction that wrote it. Once every
-- transaction older than the oldest one still running has ended, no event can appear below that
-- position any more, so a stream that sends events in (txid, id) order up to it never skips one
-- that commits late, and `Last-Event-ID` names an exact place to resume from. Rows written before
-- this column existed keep NULL (no table rewrite); they are older than any stream can replay.
ALTER TABLE outbox_events ADD COLUMN txid bigint;
ALTER TABLE outbox_events ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX outbox_events_stream_idx ON outbox_events (txid, id) WHERE txid IS NOT NULL;
-- A resuming stream reads one user's events: found through their recipients, not by scanning
-- everyone's.
CREATE INDEX outbox_events_recipients_idx ON outbox_events USING gin (recipients);

-- Single-use tickets for browsers' EventSource, which cannot send an Authorization header. Only
-- the SHA-256 of a ticket is stored; it is bound to the session that asked for it.
CREATE TABLE event_stream_tickets (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX event_stream_tickets_expiry_idx ON event_stream_tickets (expires_at);

-- Integrators' endpoints. The signing secret is kept in plaintext because every delivery is signed
-- with it (an HMAC key cannot be stored as a hash); a rotated-out secret signs alongside the new
-- one until `previous_secret_expires_at`.
CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY,
    owner_id                    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url                         text NOT NULL,
    description                 text,
    events                      text[] NOT NULL,
    enabled                     boolean NOT NULL DEFAULT true,
    -- Why a disabled endpoint is disabled: its owner said so, or it failed for too long.
    disabled_reason             text CHECK (disabled_reason IN ('owner', 'failing')),
    secret                      text NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    -- Set by the first failure after a success; cleared by the next success.
    failing_since               timestamptz,
    version                     bigint NOT NULL DEFAULT 1,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    CHECK (enabled = (disabled_reason IS NULL))
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, id);

-- One (endpoint, event) is delivered once: the unique key keeps two workers from fanning an event
-- out twice; the lease (`next_attempt_at` pushed past it on claim) keeps them from sending it twice.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';

-- What each attempt saw, for the owner's delivery log.
CREATE TABLE webhook_attempts (
    id                uuid PRIMARY KEY,
    delivery_id       uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id          uuid NOT NULL,
    event_type        text NOT NULL,
    attempt           integer NOT NULL,
    succeeded         boolean NOT NULL,
    status_code       integer,
    latency_ms        integer NOT NULL,
    response_excerpt  text,
    error             text,
    attempted_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_endpoint_idx ON webhook_attempts (endpoint_id, id DESC);
