//! The dashboard's counters.

use crate::domain::ids::UserId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::domain::order::OrderStatus;

/// Every counter of the dashboard, in one statement.
#[derive(QueryableByName, Debug)]
pub struct DashboardRow {
    /// `{"status": count}` where the user is the client.
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub as_client: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub as_creative: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub late: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub due_soon: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub unread_messages: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub unread_notifications: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub median_first_response: Option<i64>,
}

/// The dashboard of `user` at `now`: late means in `can_be_late` and due before now; due soon,
/// in `pending` and due within `[now, soon)`. Each role is its own index range scan (nobody is
/// both parties of one order, so the roles add up).
pub async fn dashboard(
    conn: &mut AsyncPgConnection,
    user: UserId,
    can_be_late: &[OrderStatus],
    pending: &[OrderStatus],
    now: DateTime<Utc>,
    soon: DateTime<Utc>,
) -> QueryResult<DashboardRow> {
    use diesel::sql_types::{Array, Text, Timestamptz, Uuid as SqlUuid};
    let by_status = |role: &str| {
        format!(
            "(SELECT coalesce(jsonb_object_agg(status, n), '{{}}') \
               FROM (SELECT status, count(*) AS n FROM orders WHERE {role} = $1 GROUP BY status) s)"
        )
    };
    let due = |role: &str, statuses: &str, from: &str, to: &str| {
        format!(
            "(SELECT count(*) FROM orders WHERE {role} = $1 AND status = ANY({statuses}) \
               AND due_at < {to}{from})"
        )
    };
    let sql = format!(
        "SELECT {} AS as_client, {} AS as_creative, {} + {} AS late, {} + {} AS due_soon, \
           (SELECT count(*) FROM (SELECT id FROM orders WHERE client_id = $1 \
                                  UNION ALL SELECT id FROM orders WHERE creative_id = $1) o \
              JOIN messages m ON m.order_id = o.id \
              LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = $1 \
            WHERE (r.last_read_id IS NULL OR m.id > r.last_read_id) \
              AND m.sender_id IS DISTINCT FROM $1) AS unread_messages, \
           (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) \
             AS unread_notifications, \
           ({MEDIAN}) AS median_first_response",
        by_status("client_id"),
        by_status("creative_id"),
        due("client_id", "$2", "", "$4"),
        due("creative_id", "$2", "", "$4"),
        due("client_id", "$3", " AND due_at >= $4", "$5"),
        due("creative_id", "$3", " AND due_at >= $4", "$5"),
    );
    let names = |s: &[OrderStatus]| s.iter().map(OrderStatus::as_str).collect::<Vec<_>>();
    crate::db::prepared::prepared(sql)
        .bind::<SqlUuid, _>(user)
        .bind::<Array<Text>, _>(names(can_be_late))
        .bind::<Array<Text>, _>(names(pending))
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(soon)
        .get_result(conn)
        .await
}

/// The creative's median time, in whole seconds, from an order's placement to their first answer
/// (a message, a confirmation or a decline), over orders placed in the last 30 days that have one;
/// the creative bound as `$1`.
const MEDIAN: &str =
    "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds))::bigint \
     FROM (SELECT extract(epoch FROM LEAST( \
               (SELECT min(m.created_at) FROM messages m \
                 WHERE m.order_id = o.id AND m.sender_id = o.creative_id), \
               (SELECT min(t.created_at) FROM order_transitions t \
                 WHERE t.order_id = o.id AND t.from_status = 'new' \
                   AND t.actor_role = 'creative')) - o.created_at) AS seconds \
           FROM orders o \
           WHERE o.creative_id = $1 AND o.created_at > now() - interval '30 days') r \
     WHERE r.seconds IS NOT NULL";
