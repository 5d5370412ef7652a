-- GET /v1/orders/{id} in one statement: the caller's account and session checked (revocation
-- takes effect at once), the order if they are a party (or an admin), both parties' names and the
-- caller's unread count.
SELECT o.*, c.display_name AS client_name, cr.display_name AS creative_name,
  (SELECT count(*) FROM messages m
     LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = u.id
   WHERE m.order_id = o.id AND (r.last_read_id IS NULL OR m.id > r.last_read_id)
     AND m.sender_id IS DISTINCT FROM u.id) AS unread
FROM users u
JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
JOIN orders o ON o.id = '{{order}}' AND (o.client_id = u.id OR o.creative_id = u.id OR u.is_admin)
JOIN users c ON c.id = o.client_id
JOIN users cr ON cr.id = o.creative_id
WHERE u.id = '{{user}}' AND u.disabled_at IS NULL;
