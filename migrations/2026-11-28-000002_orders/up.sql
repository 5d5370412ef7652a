-- Services creatives offer, orders placed with them, the status history, cancellation requests and
-- idempotency keys for order placement.

-- pg_trgm is a trusted extension: a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE services (
    id                 uuid PRIMARY KEY,
    creative_id        uuid NOT NULL REFERENCES users (id),
    title              text NOT NULL,
    description        text NOT NULL,
    price_amount       bigint NOT NULL CHECK (price_amount > 0),
    price_currency     text NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    delivery_days      integer NOT NULL CHECK (delivery_days BETWEEN 1 AND 365),
    revisions_included integer NOT NULL CHECK (revisions_included BETWEEN 0 AND 100),
    archived_at        timestamptz,
    version            bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
-- Ids are UUIDv7, so `id DESC` is newest first and doubles as the keyset cursor.
CREATE INDEX services_active_idx ON services (id DESC) WHERE archived_at IS NULL;
CREATE INDEX services_creative_idx ON services (creative_id, id DESC) WHERE archived_at IS NULL;
CREATE INDEX services_title_trgm_idx ON services USING gin (title gin_trgm_ops) WHERE archived_at IS NULL;

CREATE TABLE orders (
    id                 uuid PRIMARY KEY,
    client_id          uuid NOT NULL REFERENCES users (id),
    creative_id        uuid NOT NULL REFERENCES users (id),
    service_id         uuid REFERENCES services (id),
    title              text NOT NULL,
    requirements       text NOT NULL,
    price_amount       bigint NOT NULL CHECK (price_amount > 0),
    price_currency     text NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    due_at             timestamptz NOT NULL,
    revisions_included integer NOT NULL CHECK (revisions_included >= 0),
    revisions_used     integer NOT NULL DEFAULT 0 CHECK (revisions_used >= 0),
    status             text NOT NULL CHECK (status IN
                         ('new', 'in_progress', 'delivered', 'completed', 'declined', 'cancelled', 'disputed')),
    version            bigint NOT NULL DEFAULT 1,
    delivered_at       timestamptz,
    -- Set on delivery; the worker completes the order at this time unless the client acted first.
    auto_complete_at   timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_not_self CHECK (client_id <> creative_id),
    CONSTRAINT orders_revisions_within_limit CHECK (revisions_used <= revisions_included)
);
CREATE INDEX orders_client_idx ON orders (client_id, id DESC);
CREATE INDEX orders_creative_idx ON orders (creative_id, id DESC);
CREATE INDEX orders_client_due_idx ON orders (client_id, due_at, id);
CREATE INDEX orders_creative_due_idx ON orders (creative_id, due_at, id);
CREATE INDEX orders_client_status_idx ON orders (client_id, status);
CREATE INDEX orders_creative_status_idx ON orders (creative_id, status);
CREATE INDEX orders_auto_complete_idx ON orders (auto_complete_at) WHERE status = 'delivered';

CREATE TABLE order_transitions (
    id          uuid PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status text,
    to_status   text NOT NULL,
    -- NULL when the system moved the order (auto-completion, unanswered cancellation request).
    actor_id    uuid REFERENCES users (id),
    actor_role  text NOT NULL CHECK (actor_role IN ('client', 'creative', 'admin', 'system')),
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_transitions_order_idx ON order_transitions (order_id, id);

CREATE TABLE cancellation_requests (
    id             uuid PRIMARY KEY,
    order_id       uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    requested_by   uuid NOT NULL REFERENCES users (id),
    requester_role text NOT NULL CHECK (requester_role IN ('client', 'creative')),
    reason         text NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected')),
    auto_accept_at timestamptz NOT NULL,
    resolved_by    uuid REFERENCES users (id),
    resolved_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cancellation_requests_one_pending ON cancellation_requests (order_id) WHERE status = 'pending';
CREATE INDEX cancellation_requests_due_idx ON cancellation_requests (auto_accept_at) WHERE status = 'pending';

CREATE TABLE idempotency_keys (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    response_status integer,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
