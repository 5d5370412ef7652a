-- POST /v1/orders/{id}/messages (idempotent) as one statement: the caller checked, the order
-- locked (thread order is write order), the message, the message.posted event and the
-- idempotency record with its response.
WITH me AS (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL),
o AS (
  SELECT o.id, o.client_id, o.creative_id FROM orders o, me
  WHERE o.id = '{{order}}' AND (o.client_id = me.id OR o.creative_id = me.id)
  FOR UPDATE OF o),
m AS (
  INSERT INTO messages (id, order_id, sender_id, sender_role, kind, body, created_at)
  SELECT bench_uuid7(), o.id, me.id, 'client', 'user',
         'A benchmark message, about the size of a real one.', now()
  FROM o, me
  RETURNING *),
e AS (
  INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, recipients, payload)
  SELECT bench_uuid7(), 'message.posted', 'order', m.order_id, ARRAY[o.creative_id],
         jsonb_build_object('order_id', m.order_id, 'message_id', m.id, 'sender_id', m.sender_id,
                            'excerpt', m.body, 'attachment_count', 0)
  FROM m, o),
k AS (
  INSERT INTO idempotency_keys (user_id, key, request_hash, owner, response_status, response_body)
  SELECT me.id, gen_random_uuid()::text, '\x00', gen_random_uuid(), 201, to_jsonb(m) FROM me, m)
SELECT m.* FROM m;
