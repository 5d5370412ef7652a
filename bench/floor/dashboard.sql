-- GET /v1/dashboard in one statement: the caller checked, then every counter as a subquery of the
-- same round trip (counts by status per role, late and due soon per role, unread messages and
-- notifications, the median first response, earnings and spending per currency from the ledger).
SELECT
  (SELECT array_agg(status || ':' || n) FROM (SELECT status, count(*) n FROM orders WHERE client_id = me.id GROUP BY status) a),
  (SELECT array_agg(status || ':' || n) FROM (SELECT status, count(*) n FROM orders WHERE creative_id = me.id GROUP BY status) b),
  (SELECT count(*) FROM orders WHERE client_id = me.id AND status IN ('new', 'in_progress', 'disputed') AND due_at < now()),
  (SELECT count(*) FROM orders WHERE client_id = me.id AND status IN ('new', 'in_progress') AND due_at >= now() AND due_at < now() + interval '48 hours'),
  (SELECT count(*) FROM orders WHERE creative_id = me.id AND status IN ('new', 'in_progress', 'disputed') AND due_at < now()),
  (SELECT count(*) FROM orders WHERE creative_id = me.id AND status IN ('new', 'in_progress') AND due_at >= now() AND due_at < now() + interval '48 hours'),
  (SELECT count(*) FROM (SELECT id FROM orders WHERE client_id = me.id
                         UNION ALL SELECT id FROM orders WHERE creative_id = me.id) o
     JOIN messages m ON m.order_id = o.id
     LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = me.id
   WHERE (r.last_read_id IS NULL OR m.id > r.last_read_id) AND m.sender_id IS DISTINCT FROM me.id),
  (SELECT count(*) FROM notifications WHERE user_id = me.id AND read_at IS NULL),
  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x.seconds))::bigint FROM (
     SELECT extract(epoch FROM LEAST(
       (SELECT min(m.created_at) FROM messages m WHERE m.order_id = o.id AND m.sender_id = o.creative_id),
       (SELECT min(t.created_at) FROM order_transitions t WHERE t.order_id = o.id AND t.from_status = 'new' AND t.actor_role = 'creative')
     ) - o.created_at) AS seconds
     FROM orders o WHERE o.creative_id = me.id AND o.created_at > now() - interval '30 days') x
   WHERE x.seconds IS NOT NULL),
  (SELECT json_agg(f ORDER BY f.currency) FROM (
     SELECT a.currency,
       sum(CASE WHEN a.kind = 'escrow' AND o.creative_id = me.id THEN a.balance ELSE 0 END) AS pending,
       sum(CASE WHEN a.kind = 'creative_available' THEN a.balance ELSE 0 END) AS available,
       sum(CASE WHEN a.kind = 'paid_out' THEN (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
         WHERE e.account_id = a.id AND e.created_at >= date_trunc('month', now())) ELSE 0 END) AS paid_out,
       sum(CASE WHEN a.kind = 'escrow' AND o.client_id = me.id THEN a.balance ELSE 0 END) AS in_escrow,
       sum(CASE WHEN a.kind = 'client_funding' THEN (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e
         WHERE e.account_id = a.id AND e.created_at >= date_trunc('month', now()) AND e.amount < 0) ELSE 0 END) AS spent
     FROM ledger_accounts a LEFT JOIN orders o ON a.kind = 'escrow' AND o.id = a.owner_id
     WHERE (a.owner_id = me.id AND a.kind IN ('creative_available', 'paid_out', 'client_funding'))
        OR (a.kind = 'escrow' AND a.owner_id IN (SELECT id FROM orders WHERE client_id = me.id OR creative_id = me.id))
     GROUP BY a.currency) f)
FROM (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL) me;
