//! The dashboard's counters, with the caller's session check, in one statement that reads a
//! bounded amount whatever the user's history: tallies kept by the writes, open orders only, the
//! last 30 days' orders.

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

/// The tally columns of `alias` (a row of `order_tallies`, maybe missing), in the order of
/// [`OrderStatus::ALL`]: the table has a column per status, named after it.
fn tally_columns(alias: &str) -> String {
    let columns: Vec<String> = OrderStatus::ALL
        .iter()
        .map(|s| format!("coalesce({alias}.\"{}\", 0)", s.as_str()))
        .collect();
    format!("ARRAY[{}]::int8[]", columns.join(", "))
}

/// Late ($4 is now) and due soon (before $5) over both roles, from the partial indexes of open
/// orders (`orders_*_open_idx`, whose predicate is [`OrderStatus::CAN_BE_LATE`]): a user's history
/// grows without bound, their open work does not.
fn due_counts() -> String {
    let open = in_list(&OrderStatus::CAN_BE_LATE);
    let arm = |column: &str| {
        format!(
            "SELECT status, due_at FROM orders \
             WHERE {column} = $1 AND status IN ({open}) AND due_at < $5"
        )
    };
    format!(
        "SELECT count(*) FILTER (WHERE due_at < $4) AS late, \
           count(*) FILTER (WHERE due_at >= $4 AND status IN ({})) AS due_soon \
         FROM ({} UNION ALL {}) o",
        in_list(&OrderStatus::WORK_PENDING),
        arm("client_id"),
        arm("creative_id"),
    )
}

/// `$1` the user, `$2` the start of the month, `$3` the session, `$4` now, `$5` the end of "due
/// soon". Counts by status and unread messages come from `order_tallies`, which the writes keep
/// (see its migration).
static SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH caller AS ({LIVE_CALLER}) \
         SELECT {as_client} AS as_client, {as_creative} AS as_creative, d.late, d.due_soon, \
           coalesce(c.unread_messages, 0) + coalesce(k.unread_messages, 0) AS unread_messages, \
           (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) \
             AS unread_notifications, \
           ({MEDIAN}) AS median_first_response, \
           (SELECT coalesce(json_agg(f ORDER BY f.currency), '[]'::json) FROM ({figures}) f) AS money \
         FROM caller \
         LEFT JOIN order_tallies c ON c.user_id = $1 AND c.role = 'client' \
         LEFT JOIN order_tallies k ON k.user_id = $1 AND k.role = 'creative' \
         CROSS JOIN LATERAL ({due}) d",
        as_client = tally_columns("c"),
        as_creative = tally_columns("k"),
        figures = crate::db::ledger::FIGURES,
        due = due_counts(),
    )
});

/// The creative's median time, in whole seconds, from an order's placement to their first answer
/// (a message, a confirmation or a decline: `first_response_at`), over orders placed in the last
/// 30 days that have one. The id range reaches a day further back: ids carry the application's
/// clock, `created_at` the database's.
const MEDIAN: &str = "SELECT round(percentile_cont(0.5) WITHIN GROUP \
       (ORDER BY extract(epoch FROM o.first_response_at - o.created_at)))::bigint \
     FROM orders o \
     WHERE o.creative_id = $1 AND o.id >= uuid7_floor(now() - interval '31 days') \
       AND o.created_at > now() - interval '30 days' AND o.first_response_at IS NOT NULL";

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
