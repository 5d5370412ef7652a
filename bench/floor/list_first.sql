-- GET /v1/orders in one statement: the caller checked, a page of 20 (+1 to know
-- whether another follows) of the orders they take part in, newest first (two index range scans,
-- one per role, merged), with both parties' names and the caller's unread count per order.
SELECT o.*, c.display_name AS client_name, cr.display_name AS creative_name,
  (SELECT count(*) FROM messages m
     LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = me.id
   WHERE m.order_id = o.id AND (r.last_read_id IS NULL OR m.id > r.last_read_id)
     AND m.sender_id IS DISTINCT FROM me.id) AS unread
FROM (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL) me
CROSS JOIN LATERAL (
  SELECT * FROM (
    (SELECT * FROM orders WHERE client_id = me.id ORDER BY id DESC LIMIT 21)
    UNION ALL
    (SELECT * FROM orders WHERE creative_id = me.id ORDER BY id DESC LIMIT 21)) page
  ORDER BY id DESC LIMIT 21) o
JOIN users c ON c.id = o.client_id
JOIN users cr ON cr.id = o.creative_id
ORDER BY o.id DESC;
