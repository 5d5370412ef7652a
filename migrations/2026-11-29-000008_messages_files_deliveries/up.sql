-- The thread of an order: what its parties write, and what the system posts on every change.
CREATE TABLE messages (
    id           uuid PRIMARY KEY,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- NULL for a system message.
    sender_id    uuid REFERENCES users (id),
    sender_role  text NOT NULL,
    kind         text NOT NULL CONSTRAINT messages_kind_check CHECK (kind IN ('user', 'system')),
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT messages_sender_matches_kind CHECK ((kind = 'system') = (sender_id IS NULL))
);
-- Pages of one thread (both ways), and unread counts: ids are time-ordered.
CREATE INDEX messages_order_id_idx ON messages (order_id, id) INCLUDE (sender_id);

-- How far each participant has read each thread; it only moves forward.
CREATE TABLE message_reads (
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_id  uuid NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, order_id)
);

-- A delivery: the creative hands work over; its message is in the thread, its files attached to it.
CREATE TABLE deliveries (
    id          uuid PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    message_id  uuid NOT NULL REFERENCES messages (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_order_id_idx ON deliveries (order_id, id);

-- Files uploaded to an order. The object's key in storage is the id. An attachment belongs to at most
-- one owner (a message or a delivery); one unreferenced for a day is swept.
CREATE TABLE attachments (
    id            uuid PRIMARY KEY,
    order_id      uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    filename      text NOT NULL,
    content_type  text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    sha256        bytea NOT NULL,
    message_id    uuid REFERENCES messages (id),
    delivery_id   uuid REFERENCES deliveries (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attachments_one_owner CHECK (message_id IS NULL OR delivery_id IS NULL)
);
CREATE INDEX attachments_order_id_idx ON attachments (order_id, id);
CREATE INDEX attachments_message_id_idx ON attachments (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_delivery_id_idx ON attachments (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX attachments_unreferenced_idx ON attachments (created_at)
    WHERE message_id IS NULL AND delivery_id IS NULL;
