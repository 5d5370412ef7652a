-- GET /v1/dashboard in one statement: the caller checked, then every counter as a subquery of the
-- same round trip, each reading a bounded amount however long the user's history: counts by
-- status and unread messages from the tallies the writes keep (order_tallies), late and due soon
-- from the open orders' partial indexes, the median over the last 30 days' ids, unread
-- notifications, earnings and spending per currency from the ledger (escrow from its tallies).
SELECT
  (SELECT ARRAY["new", in_progress, delivered, completed, declined, cancelled, disputed] FROM order_tallies WHERE user_id = me.id AND role = 'client'),
  (SELECT ARRAY["new", in_progress, delivered, completed, declined, cancelled, disputed] FROM order_tallies WHERE user_id = me.id AND role = 'creative'),
  (SELECT sum(unread_messages) FROM order_tallies WHERE user_id = me.id),
  (SELECT count(*) FROM orders WHERE client_id = me.id AND status IN ('new', 'in_progress', 'disputed') AND due_at < now()),
  (SELECT count(*) FROM orders WHERE client_id = me.id AND status IN ('new', 'in_progress') AND due_at >= now() AND due_at < now() + interval '48 hours'),
  (SELECT count(*) FROM orders WHERE creative_id = me.id AND status IN ('new', 'in_progress', 'disputed') AND due_at < now()),
  (SELECT count(*) FROM orders WHERE creative_id = me.id AND status IN ('new', 'in_progress') AND due_at >= now() AND due_at < now() + interval '48 hours'),
  (SELECT count(*) FROM notifications WHERE user_id = me.id AND read_at IS NULL),
  (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.first_response_at - o.created_at)))::bigint
     FROM orders o
    WHERE o.creative_id = me.id
      AND o.id >= (lpad(to_hex((extract(epoch FROM now() - interval '31 days') * 1000)::bigint), 12, '0') || '70008000000000000000')::uuid
      AND o.created_at > now() - interval '30 days' AND o.first_response_at IS NOT NULL),
  (SELECT json_agg(f ORDER BY f.currency) FROM (
     SELECT currency, sum(pending) AS pending, sum(available) AS available, sum(paid_out) AS paid_out,
            sum(in_escrow) AS in_escrow, sum(spent) AS spent FROM (
       SELECT a.currency, 0 AS pending,
         CASE WHEN a.kind = 'creative_available' THEN a.balance ELSE 0 END AS available,
         CASE WHEN a.kind = 'paid_out' THEN (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e
           WHERE e.account_id = a.id AND e.created_at >= date_trunc('month', now())) ELSE 0 END AS paid_out,
         0 AS in_escrow,
         CASE WHEN a.kind = 'client_funding' THEN (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e
           WHERE e.account_id = a.id AND e.created_at >= date_trunc('month', now()) AND e.amount < 0) ELSE 0 END AS spent
       FROM ledger_accounts a WHERE a.owner_id = me.id AND a.kind IN ('creative_available', 'paid_out', 'client_funding')
       UNION ALL
       SELECT currency, CASE WHEN role = 'creative' THEN held ELSE 0 END, 0, 0, CASE WHEN role = 'client' THEN held ELSE 0 END, 0
       FROM escrow_tallies WHERE user_id = me.id) mine
     GROUP BY currency) f)
FROM (SELECT u.id FROM users u
      JOIN sessions s ON s.user_id = u.id AND s.id = '{{sid}}' AND s.revoked_at IS NULL AND s.expires_at > now()
      WHERE u.id = '{{user}}' AND u.disabled_at IS NULL) me;
