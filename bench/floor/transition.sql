-- POST /v1/orders/{id}/transitions as one statement: the caller checked, the guarded update of the
-- order (here toggling delivered and in_progress, as the benchmark's moves alternate), its history
-- row, the order.status_changed event, the thread's system line and, for a delivery, the delivery's
-- message and row.
WITH me AS (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL),
o AS (
  UPDATE orders
  SET status = CASE orders.status WHEN 'in_progress' THEN 'delivered' ELSE 'in_progress' END,
      delivered_at = CASE orders.status WHEN 'in_progress' THEN now() ELSE orders.delivered_at END,
      version = orders.version + 1, updated_at = now()
  FROM me
  WHERE orders.id = '{{order}}' AND orders.status IN ('in_progress', 'delivered')
    AND (orders.client_id = me.id OR orders.creative_id = me.id)
  RETURNING orders.*, me.id AS actor),
h AS (
  INSERT INTO order_transitions (id, order_id, from_status, to_status, actor_id, actor_role, note)
  SELECT bench_uuid7(), o.id,
         CASE o.status WHEN 'delivered' THEN 'in_progress' ELSE 'delivered' END, o.status,
         o.actor, 'creative', 'Here it is.'
  FROM o),
e AS (
  INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, recipients, payload)
  SELECT bench_uuid7(), 'order.status_changed', 'order', o.id, ARRAY[o.client_id, o.creative_id],
         jsonb_build_object('order_id', o.id, 'to', o.status, 'version', o.version, 'actor_id', o.actor)
  FROM o),
line AS (
  INSERT INTO messages (id, order_id, sender_role, kind, body, created_at)
  SELECT bench_uuid7(), o.id, 'system', 'system', 'The order moved to ' || o.status, now() FROM o),
dm AS (
  INSERT INTO messages (id, order_id, sender_id, sender_role, kind, body, created_at)
  SELECT bench_uuid7(), o.id, o.actor, 'creative', 'user', 'Here it is.', now()
  FROM o WHERE o.status = 'delivered'
  RETURNING id, order_id),
d AS (
  INSERT INTO deliveries (id, order_id, message_id, created_at)
  SELECT bench_uuid7(), dm.order_id, dm.id, now() FROM dm)
SELECT o.* FROM o;
