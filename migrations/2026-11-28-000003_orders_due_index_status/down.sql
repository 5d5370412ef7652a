DROP INDEX orders_client_due_idx;
DROP INDEX orders_creative_due_idx;
CREATE INDEX orders_client_due_idx ON orders (client_id, due_at, id);
CREATE INDEX orders_creative_due_idx ON orders (creative_id, due_at, id);
