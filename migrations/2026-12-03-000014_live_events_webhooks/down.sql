DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE event_stream_tickets;
DROP INDEX outbox_events_stream_idx;
DROP INDEX outbox_events_recipients_idx;
ALTER TABLE outbox_events DROP COLUMN txid;
