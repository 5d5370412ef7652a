-- Support: tickets between a user and the support team, files on them, accounts support can
-- disable, and the audit log of every admin action.

CREATE TABLE support_tickets (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    order_id uuid REFERENCES orders (id),
    subject text NOT NULL,
    status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'waiting_on_user', 'resolved', 'closed')),
    assigned_to uuid REFERENCES users (id),
    resolved_at timestamptz,
    -- Messages the user sees; the team's internal notes are counted apart, and change nothing
    -- the user can see (not even the version).
    message_count integer NOT NULL DEFAULT 0,
    note_count integer NOT NULL DEFAULT 0,
    version bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL))
);

CREATE INDEX support_tickets_user_idx ON support_tickets (user_id, id DESC);
CREATE INDEX support_tickets_status_idx ON support_tickets (status, id DESC);
CREATE INDEX support_tickets_assignee_idx ON support_tickets (assigned_to, id DESC)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX support_tickets_order_idx ON support_tickets (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX support_tickets_resolved_idx ON support_tickets (resolved_at) WHERE status = 'resolved';

CREATE TABLE support_messages (
    id uuid PRIMARY KEY,
    ticket_id uuid NOT NULL REFERENCES support_tickets (id),
    author_id uuid NOT NULL REFERENCES users (id),
    -- `user` for the ticket's owner, `support` for the team.
    author_role text NOT NULL CHECK (author_role IN ('user', 'support')),
    -- Internal notes are the team's own and never shown to the user.
    internal boolean NOT NULL DEFAULT false,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT internal OR author_role = 'support')
);

CREATE INDEX support_messages_ticket_idx ON support_messages (ticket_id, id);

-- A file belongs to an order or to a ticket, and is held by at most one message, delivery or
-- ticket message; the sweep deletes those nobody holds.
ALTER TABLE attachments
    ALTER COLUMN order_id DROP NOT NULL,
    ADD COLUMN ticket_id uuid REFERENCES support_tickets (id),
    ADD COLUMN support_message_id uuid REFERENCES support_messages (id),
    DROP CONSTRAINT attachments_one_owner,
    ADD CONSTRAINT attachments_one_owner CHECK (
        num_nonnulls(message_id, delivery_id, support_message_id) <= 1),
    ADD CONSTRAINT attachments_one_scope CHECK (num_nonnulls(order_id, ticket_id) = 1),
    ADD CONSTRAINT attachments_scope_of_owner CHECK (
        (support_message_id IS NULL OR ticket_id IS NOT NULL)
        AND (message_id IS NULL AND delivery_id IS NULL OR order_id IS NOT NULL));

CREATE INDEX attachments_support_message_idx ON attachments (support_message_id)
    WHERE support_message_id IS NOT NULL;

-- Every admin action, written in the transaction of the action. Append-only: the trigger refuses
-- any change or removal, whoever asks.
CREATE TABLE audit_log (
    id uuid PRIMARY KEY,
    actor_id uuid NOT NULL REFERENCES users (id),
    action text NOT NULL,
    target_type text NOT NULL,
    target_id uuid NOT NULL,
    before jsonb,
    after jsonb,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_log_target_idx ON audit_log (target_id, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Support finds users by part of their name or address.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_name_trgm_idx ON users USING gin (lower(display_name) gin_trgm_ops);
