DROP INDEX IF EXISTS users_name_trgm_idx;
DROP INDEX IF EXISTS users_email_trgm_idx;
DROP TABLE audit_log;
DROP FUNCTION audit_log_is_append_only();
DELETE FROM attachments WHERE order_id IS NULL;
ALTER TABLE attachments
    DROP CONSTRAINT attachments_scope_of_owner,
    DROP CONSTRAINT attachments_one_scope,
    DROP CONSTRAINT attachments_one_owner,
    DROP COLUMN support_message_id,
    DROP COLUMN ticket_id,
    ALTER COLUMN order_id SET NOT NULL,
    ADD CONSTRAINT attachments_one_owner CHECK (message_id IS NULL OR delivery_id IS NULL);
DROP TABLE support_messages;
DROP TABLE support_tickets;
