-- POST /v1/orders (idempotent) as one statement, so one transaction and one round trip: the
-- caller checked, the creative active, the order, its first history row, the order.placed event,
-- the thread's system line and the idempotency record with its response.
WITH me AS (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL),
creative AS (SELECT id, display_name FROM users WHERE id = '{{creative}}' AND disabled_at IS NULL),
o AS (
  INSERT INTO orders (id, client_id, creative_id, title, requirements, price_amount, price_currency,
                      due_at, revisions_included, status)
  SELECT bench_uuid7(), me.id, creative.id, 'Benchmark order', 'Bench.', 15000, 'EUR',
         now() + interval '30 days', 0, 'new'
  FROM me, creative
  RETURNING *),
h AS (
  INSERT INTO order_transitions (id, order_id, from_status, to_status, actor_id, actor_role, note)
  SELECT bench_uuid7(), o.id, NULL, 'new', o.client_id, 'client', NULL FROM o),
e AS (
  INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, recipients, payload)
  SELECT bench_uuid7(), 'order.placed', 'order', o.id, ARRAY[o.creative_id],
         jsonb_build_object('order_id', o.id, 'title', o.title, 'client_id', o.client_id,
                            'creative_id', o.creative_id, 'due_at', o.due_at,
                            'price', jsonb_build_object('amount', o.price_amount, 'currency', o.price_currency))
  FROM o),
m AS (
  INSERT INTO messages (id, order_id, sender_role, kind, body, created_at)
  SELECT bench_uuid7(), o.id, 'system', 'system', 'The client placed the order: ' || o.title, now()
  FROM o),
k AS (
  INSERT INTO idempotency_keys (user_id, key, request_hash, owner, response_status, response_body)
  SELECT me.id, gen_random_uuid()::text, '\x00', gen_random_uuid(), 201, to_jsonb(o) FROM me, o)
SELECT o.*, creative.display_name FROM o, creative;
