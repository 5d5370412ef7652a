-- GET /v1/dashboard in one statement: the caller checked, then every counter as a subquery of the
-- same round trip (counts by status per role, late and due soon per role, unread messages and
-- notifications, the median first response).
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
   WHERE x.seconds IS NOT NULL)
FROM (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL) me;
