-- Reviews after completion, and the facts a creative's reputation is computed from.

-- Kept on the order when they happen, so a profile reads them instead of replaying history:
-- when it completed, when its creative first answered (a message, a confirmation or a decline),
-- and whether its first delivery beat the due date in force at that moment.
ALTER TABLE orders
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN first_response_at timestamptz,
    ADD COLUMN first_delivered_at timestamptz,
    ADD COLUMN first_delivery_on_time boolean;

UPDATE orders o SET completed_at = t.at
FROM (SELECT order_id, max(created_at) AS at FROM order_transitions
      WHERE to_status = 'completed' GROUP BY order_id) t
WHERE o.id = t.order_id;

-- Older orders: the due date now stands in for the one in force then (only revisions move it).
UPDATE orders o SET first_delivered_at = t.at, first_delivery_on_time = t.at <= o.due_at
FROM (SELECT order_id, min(created_at) AS at FROM order_transitions
      WHERE to_status = 'delivered' GROUP BY order_id) t
WHERE o.id = t.order_id;

UPDATE orders o SET first_response_at = r.at
FROM (SELECT order_id, min(at) AS at FROM (
        SELECT order_id, created_at AS at FROM order_transitions
        WHERE from_status = 'new' AND actor_role = 'creative'
        UNION ALL
        SELECT m.order_id, m.created_at FROM messages m JOIN orders x ON x.id = m.order_id
        WHERE m.sender_id = x.creative_id) a GROUP BY order_id) r
WHERE o.id = r.order_id;

-- A profile's order facts in one index-only pass over the creative's orders.
CREATE INDEX orders_creative_reputation_idx ON orders (creative_id)
    INCLUDE (status, created_at, first_response_at, first_delivery_on_time);

CREATE TABLE reviews (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    author_id uuid NOT NULL REFERENCES users (id),
    subject_id uuid NOT NULL REFERENCES users (id),
    -- The author's side: a client reviews the creative, a creative the client.
    author_role text NOT NULL CHECK (author_role IN ('client', 'creative')),
    rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment text,
    communication smallint CHECK (communication BETWEEN 1 AND 5),
    quality smallint CHECK (quality BETWEEN 1 AND 5),
    timeliness smallint CHECK (timeliness BETWEEN 1 AND 5),
    clarity smallint CHECK (clarity BETWEEN 1 AND 5),
    -- When the other party's review arrived or the window closed; hidden from all but its author
    -- until then.
    published_at timestamptz,
    window_closes_at timestamptz NOT NULL,
    reply text,
    replied_at timestamptz,
    hidden_at timestamptz,
    hidden_by uuid REFERENCES users (id),
    hidden_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_one_per_author UNIQUE (order_id, author_id),
    CHECK (author_id <> subject_id),
    CHECK ((reply IS NULL) = (replied_at IS NULL)),
    CHECK (reply IS NULL OR published_at IS NOT NULL),
    CHECK (author_role = 'client' OR (quality IS NULL AND timeliness IS NULL)),
    CHECK (author_role = 'creative' OR clarity IS NULL)
);

CREATE INDEX reviews_subject_published_idx ON reviews (subject_id, published_at DESC, id DESC)
    WHERE published_at IS NOT NULL AND hidden_at IS NULL;
CREATE INDEX reviews_unpublished_idx ON reviews (window_closes_at) WHERE published_at IS NULL;

-- Published, visible reviews summed per user and side, kept in the transaction that publishes or
-- hides one: a profile or a page of services reads one row per user instead of aggregating.
CREATE TABLE user_ratings (
    user_id uuid NOT NULL REFERENCES users (id),
    -- The side the user was reviewed on.
    role text NOT NULL CHECK (role IN ('client', 'creative')),
    review_count integer NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    rating_sum integer NOT NULL DEFAULT 0,
    communication_sum integer NOT NULL DEFAULT 0,
    communication_count integer NOT NULL DEFAULT 0,
    quality_sum integer NOT NULL DEFAULT 0,
    quality_count integer NOT NULL DEFAULT 0,
    timeliness_sum integer NOT NULL DEFAULT 0,
    timeliness_count integer NOT NULL DEFAULT 0,
    clarity_sum integer NOT NULL DEFAULT 0,
    clarity_count integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role)
);
