//! The dashboard's counters, with the caller's session check, in one statement.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Json, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::views::LIVE_CALLER;
use crate::db::prepared::prepared;
use crate::domain::ids::UserId;
use crate::domain::order::OrderStatus;

/// The counters as the statement returns them.
#[derive(QueryableByName, Debug)]
pub struct DashboardRow {
    /// Orders the user placed, per status, in the order of [`OrderStatus::ALL`].
    #[diesel(sql_type = Array<BigInt>)]
    pub as_client: Vec<i64>,
    /// Orders the user works on, per status, in the order of [`OrderStatus::ALL`].
    #[diesel(sql_type = Array<BigInt>)]
    pub as_creative: Vec<i64>,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub due_soon: i64,
    #[diesel(sql_type = BigInt)]
    pub unread_messages: i64,
    #[diesel(sql_type = BigInt)]
    pub unread_notifications: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub median_first_response: Option<i64>,
    /// `db::ledger::Figures` per currency, as a JSON array.
    #[diesel(sql_type = Json)]
    pub money: serde_json::Value,
}

/// `SQL list` of statuses, for `IN (…)`: the values are the enum's own constant names.
fn in_list(statuses: &[OrderStatus]) -> String {
    let quoted: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    quoted.join(", ")
}

/// One role's counters from one index-only range scan of that role's `(participant, due_at, id)
/// INCLUDE (status)` index: per status, then late ($4 is now) and due soon (before $5).
fn role_counts(column: &str) -> String {
    let per_status: Vec<String> = OrderStatus::ALL
        .iter()
        .map(|s| format!("count(*) FILTER (WHERE status = '{}')", s.as_str()))
        .collect();
    format!(
        "SELECT ARRAY[{}]::int8[] AS by_status, \
           count(*) FILTER (WHERE status IN ({}) AND due_at < $4) AS late, \
           count(*) FILTER (WHERE status IN ({}) AND due_at >= $4 AND due_at < $5) AS due_soon \
         FROM orders WHERE {column} = $1",
        per_status.join(", "),
        in_list(&OrderStatus::CAN_BE_LATE),
        in_list(&OrderStatus::WORK_PENDING),
    )
}

/// `$1` the user, `$2` the start of the month, `$3` the session, `$4` now, `$5` the end of "due
/// soon". Nobody is both parties of one order, so the two roles' counts add up.
static SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH caller AS ({LIVE_CALLER}) \
         SELECT c.by_status AS as_client, k.by_status AS as_creative, \
           c.late + k.late AS late, c.due_soon + k.due_soon AS due_soon, \
           (SELECT count(*) FROM (SELECT id FROM orders WHERE client_id = $1 \
                                  UNION ALL SELECT id FROM orders WHERE creative_id = $1) o \
              JOIN messages m ON m.order_id = o.id \
              LEFT JOIN message_reads r ON r.order_id = m.order_id AND r.user_id = $1 \
            WHERE (r.last_read_id IS NULL OR m.id > r.last_read_id) \
              AND m.sender_id IS DISTINCT FROM $1) AS unread_messages, \
           (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) \
             AS unread_notifications, \
           ({MEDIAN}) AS median_first_response, \
           (SELECT coalesce(json_agg(f ORDER BY f.currency), '[]'::json) FROM ({figures}) f) AS money \
         FROM caller, LATERAL ({client}) c, LATERAL ({creative}) k",
        figures = crate::db::ledger::FIGURES,
        client = role_counts("client_id"),
        creative = role_counts("creative_id"),
    )
});

/// The creative's median time, in whole seconds, from an order's placement to their first answer
/// (a message, a confirmation or a decline), over orders placed in the last 30 days that have one.
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

/// The user's counters if their session is live, else `None` (the caller then tells 401 apart).
pub async fn dashboard_in_session(
    conn: &mut AsyncPgConnection,
    user: UserId,
    session: uuid::Uuid,
    month_start: DateTime<Utc>,
    now: DateTime<Utc>,
    due_soon_until: DateTime<Utc>,
) -> QueryResult<Option<DashboardRow>> {
    prepared(SQL.as_str())
        .bind::<SqlUuid, _>(user)
        .bind::<Timestamptz, _>(month_start)
        .bind::<SqlUuid, _>(session)
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(due_soon_until)
        .get_result(conn)
        .await
        .optional()
}
