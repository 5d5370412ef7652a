-- The dashboard's counters, kept by the writes instead of counted at every read: per user and
-- role, how many of their orders are in each status, and how many messages of those orders they
-- have not read. Counting at read time costs O(the user's orders), which grows without bound for a
-- busy creative; these rows cost O(1) to read.
--
-- Triggers keep them, so every writer (the API, the worker, the seeder, a hand-run UPDATE) keeps
-- them right without having to remember. Orders and messages are never deleted and an order's
-- parties never change (refused below); a DELETE by hand would leave them stale until rebuilt
-- from order_tallies_expected(), the recount from scratch that the backfill below and the tests
-- use. Each trigger writes its rows in (user_id, role) order, so two writes of one order each
-- never take shared rows in opposite orders (a batch of many orders locks them all first:
-- db::tallies::lock_for_orders).
CREATE TABLE order_tallies (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('client', 'creative')),
    "new" int8 NOT NULL DEFAULT 0,
    in_progress int8 NOT NULL DEFAULT 0,
    delivered int8 NOT NULL DEFAULT 0,
    completed int8 NOT NULL DEFAULT 0,
    declined int8 NOT NULL DEFAULT 0,
    cancelled int8 NOT NULL DEFAULT 0,
    disputed int8 NOT NULL DEFAULT 0,
    -- Messages in the user's orders of this role, sent by someone else (or the system), after
    -- their read marker: the same rule as the per-order unread count.
    unread_messages int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role)
);

-- What the tallies should hold, counted from the orders, messages and read markers themselves.
CREATE FUNCTION order_tallies_expected()
RETURNS TABLE (user_id uuid, role text, "new" int8, in_progress int8, delivered int8,
               completed int8, declined int8, cancelled int8, disputed int8, unread_messages int8)
LANGUAGE sql STABLE AS $$
    WITH parts AS (
        SELECT o.id, o.client_id AS user_id, 'client' AS role, o.status FROM orders o
        UNION ALL
        SELECT o.id, o.creative_id, 'creative', o.status FROM orders o
    ), unread AS (
        SELECT p.user_id, p.role, count(*) AS n
        FROM parts p
        JOIN messages m ON m.order_id = p.id
        LEFT JOIN message_reads r ON r.order_id = p.id AND r.user_id = p.user_id
        WHERE m.sender_id IS DISTINCT FROM p.user_id
          AND (r.last_read_id IS NULL OR m.id > r.last_read_id)
        GROUP BY p.user_id, p.role
    )
    SELECT p.user_id, p.role,
           count(*) FILTER (WHERE p.status = 'new'),
           count(*) FILTER (WHERE p.status = 'in_progress'),
           count(*) FILTER (WHERE p.status = 'delivered'),
           count(*) FILTER (WHERE p.status = 'completed'),
           count(*) FILTER (WHERE p.status = 'declined'),
           count(*) FILTER (WHERE p.status = 'cancelled'),
           count(*) FILTER (WHERE p.status = 'disputed'),
           coalesce(max(u.n), 0)
    FROM parts p LEFT JOIN unread u ON u.user_id = p.user_id AND u.role = p.role
    GROUP BY p.user_id, p.role
$$;

-- Adds status deltas to participants' tallies, one (user, role, status, delta) per array index,
-- creating the rows a user's first order needs.
CREATE FUNCTION order_tallies_add(user_ids uuid[], roles text[], statuses text[], deltas int8[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO order_tallies AS t (user_id, role, "new", in_progress, delivered, completed,
                                    declined, cancelled, disputed)
    SELECT d.user_id, d.role,
           coalesce(sum(d.n) FILTER (WHERE d.status = 'new'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'in_progress'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'delivered'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'completed'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'declined'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'cancelled'), 0),
           coalesce(sum(d.n) FILTER (WHERE d.status = 'disputed'), 0)
    FROM unnest(user_ids, roles, statuses, deltas) AS d(user_id, role, status, n)
    GROUP BY d.user_id, d.role
    ORDER BY d.user_id, d.role
    ON CONFLICT (user_id, role) DO UPDATE SET
        "new" = t."new" + excluded."new",
        in_progress = t.in_progress + excluded.in_progress,
        delivered = t.delivered + excluded.delivered,
        completed = t.completed + excluded.completed,
        declined = t.declined + excluded.declined,
        cancelled = t.cancelled + excluded.cancelled,
        disputed = t.disputed + excluded.disputed
$$;

-- New orders, per statement: the seeder inserts twenty thousand at once, the API one.
CREATE FUNCTION order_tallies_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_tallies_add(array_agg(p.user_id), array_agg(p.role), array_agg(p.status),
                              array_agg(1::int8))
    FROM (SELECT client_id AS user_id, 'client' AS role, status FROM new_orders
          UNION ALL
          SELECT creative_id, 'creative', status FROM new_orders) p;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_tallies_on_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION order_tallies_on_insert();

-- An order's parties never change (no code path does it, and the tallies, unread counts and
-- escrow per party rest on it): a change is refused rather than miscounted.
CREATE FUNCTION orders_parties_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the parties of order % cannot change', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER orders_parties_fixed BEFORE UPDATE OF client_id, creative_id ON orders
    FOR EACH ROW
    WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id
          OR OLD.creative_id IS DISTINCT FROM NEW.creative_id)
    EXECUTE FUNCTION orders_parties_fixed();

-- A move, per row, and only when the status changed: most updates of an order do not, and the
-- WHEN clause skips them without calling the function.
CREATE FUNCTION order_tallies_on_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_tallies_add(
        ARRAY[OLD.client_id, OLD.creative_id, NEW.client_id, NEW.creative_id],
        ARRAY['client', 'creative', 'client', 'creative'],
        ARRAY[OLD.status, OLD.status, NEW.status, NEW.status],
        ARRAY[-1, -1, 1, 1]::int8[]);
    RETURN NULL;
END
$$;

CREATE TRIGGER order_tallies_on_move AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION order_tallies_on_move();

-- New messages, per statement: one more unread for each party who did not send it and whose read
-- marker is behind it (it always is: a message is the newest of its thread when written).
CREATE FUNCTION order_tallies_on_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_tallies AS t (user_id, role, unread_messages)
    SELECT p.user_id, p.role, count(*)
    FROM new_messages m
    JOIN orders o ON o.id = m.order_id
    CROSS JOIN LATERAL (VALUES (o.client_id, 'client'), (o.creative_id, 'creative')) p (user_id, role)
    LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = p.user_id
    WHERE m.sender_id IS DISTINCT FROM p.user_id
      AND (r.last_read_id IS NULL OR m.id > r.last_read_id)
    GROUP BY p.user_id, p.role
    ORDER BY p.user_id, p.role
    ON CONFLICT (user_id, role) DO UPDATE
        SET unread_messages = t.unread_messages + excluded.unread_messages;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_tallies_on_message AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION order_tallies_on_message();

-- A read marker that moves: the messages it passes (not the reader's own) are read now. Admins
-- reading a thread are no party to it and have no tally to change.
CREATE FUNCTION order_tallies_on_read() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was uuid := CASE WHEN TG_OP = 'UPDATE' THEN OLD.last_read_id END;
    passed int8;
BEGIN
    SELECT count(*) INTO passed FROM messages m
    WHERE m.order_id = NEW.order_id
      AND m.sender_id IS DISTINCT FROM NEW.user_id
      AND (was IS NULL OR m.id > LEAST(was, NEW.last_read_id))
      AND m.id <= GREATEST(was, NEW.last_read_id);
    IF was > NEW.last_read_id THEN
        passed := -passed;
    END IF;
    IF passed <> 0 THEN
        UPDATE order_tallies t SET unread_messages = t.unread_messages - passed
        FROM orders o
        WHERE o.id = NEW.order_id AND t.user_id = NEW.user_id
          AND t.role = CASE NEW.user_id WHEN o.client_id THEN 'client'
                                        WHEN o.creative_id THEN 'creative' END;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_tallies_on_read_insert AFTER INSERT ON message_reads
    FOR EACH ROW EXECUTE FUNCTION order_tallies_on_read();
CREATE TRIGGER order_tallies_on_read_update AFTER UPDATE OF last_read_id ON message_reads
    FOR EACH ROW WHEN (OLD.last_read_id IS DISTINCT FROM NEW.last_read_id)
    EXECUTE FUNCTION order_tallies_on_read();

INSERT INTO order_tallies SELECT * FROM order_tallies_expected();

-- What escrow holds in each currency for orders a user takes part in, per role (pending earnings
-- as creative, money in escrow as client), kept as each escrow account's balance moves: the
-- dashboard would otherwise probe the escrow of every order the user ever had. `ledger check`
-- holds it to escrow_tallies_expected().
CREATE TABLE escrow_tallies (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('client', 'creative')),
    currency text NOT NULL,
    held int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, role, currency)
);

CREATE FUNCTION escrow_tallies_expected()
RETURNS TABLE (user_id uuid, role text, currency text, held int8)
LANGUAGE sql STABLE AS $$
    SELECT p.user_id, p.role, a.currency, sum(a.balance)::int8
    FROM ledger_accounts a
    JOIN orders o ON o.id = a.owner_id
    CROSS JOIN LATERAL (VALUES (o.client_id, 'client'), (o.creative_id, 'creative')) p (user_id, role)
    WHERE a.kind = 'escrow'
    GROUP BY p.user_id, p.role, a.currency
$$;

-- An escrow account opened (its currency shows from then on) or its balance moved.
CREATE FUNCTION escrow_tallies_on_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta int8 := NEW.balance - CASE WHEN TG_OP = 'UPDATE' THEN OLD.balance ELSE 0 END;
BEGIN
    INSERT INTO escrow_tallies AS t (user_id, role, currency, held)
    SELECT p.user_id, p.role, NEW.currency, delta
    FROM orders o
    CROSS JOIN LATERAL (VALUES (o.client_id, 'client'), (o.creative_id, 'creative')) p (user_id, role)
    WHERE o.id = NEW.owner_id
    ORDER BY p.user_id, p.role
    ON CONFLICT (user_id, role, currency) DO UPDATE SET held = t.held + excluded.held;
    RETURN NULL;
END
$$;

CREATE TRIGGER escrow_tallies_on_open AFTER INSERT ON ledger_accounts
    FOR EACH ROW WHEN (NEW.kind = 'escrow') EXECUTE FUNCTION escrow_tallies_on_balance();
CREATE TRIGGER escrow_tallies_on_balance AFTER UPDATE OF balance ON ledger_accounts
    FOR EACH ROW WHEN (NEW.kind = 'escrow' AND OLD.balance IS DISTINCT FROM NEW.balance)
    EXECUTE FUNCTION escrow_tallies_on_balance();

INSERT INTO escrow_tallies SELECT * FROM escrow_tallies_expected();

-- The smallest UUIDv7 minted at `at` (to the millisecond): ids are time-ordered, so "created
-- since" becomes a range of an index that ends with the id. In SQL rather than a bound parameter
-- so that the planner estimates the range alike in generic and custom plans (with a parameter a
-- generic plan looked costlier and PostgreSQL re-planned the dashboard on every execution).
-- Its twin for bounds computed in Rust is db::live::v7_floor.
CREATE FUNCTION uuid7_floor(at timestamptz) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0')
            || '70008000000000000000')::uuid
$$;

-- Late and due-soon counts read only open orders (a user's history grows, their open work does
-- not); the in-progress list reads a status's orders newest first without sorting them all.
CREATE INDEX orders_client_open_idx ON orders (client_id, due_at) INCLUDE (status)
    WHERE status IN ('new', 'in_progress', 'disputed');
CREATE INDEX orders_creative_open_idx ON orders (creative_id, due_at) INCLUDE (status)
    WHERE status IN ('new', 'in_progress', 'disputed');
DROP INDEX orders_client_status_idx;
DROP INDEX orders_creative_status_idx;
CREATE INDEX orders_client_status_idx ON orders (client_id, status, id DESC);
CREATE INDEX orders_creative_status_idx ON orders (creative_id, status, id DESC);

-- The dashboard's median first response: the creative's answered orders of the last 30 days by id
-- range, read from the index alone (a busy creative's month is tens of orders, each a heap page).
CREATE INDEX orders_creative_response_idx ON orders (creative_id, id)
    INCLUDE (created_at, first_response_at) WHERE first_response_at IS NOT NULL;
