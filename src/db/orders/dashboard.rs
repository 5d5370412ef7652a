//! The dashboard's counters.

use crate::domain::ids::UserId;
use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::orders;
use crate::domain::order::OrderStatus;

/// Order counts by status where `user` is the client (or the creative).
pub async fn counts_by_status(
    conn: &mut AsyncPgConnection,
    user: UserId,
    as_client: bool,
) -> QueryResult<Vec<(OrderStatus, i64)>> {
    let query = orders::table
        .group_by(orders::status)
        .select((orders::status, count_star()))
        .into_boxed();
    let query = if as_client {
        query.filter(orders::client_id.eq(user))
    } else {
        query.filter(orders::creative_id.eq(user))
    };
    query.load(conn).await
}

/// Orders of `user` as client (or as creative) in `statuses` due within `[from, to)`. One role per
/// query so each is a range scan of that role's `(participant, due_at) INCLUDE (status)` index,
/// answered from the index alone; callers add the two (nobody is both parties of one order).
pub async fn count_due_between(
    conn: &mut AsyncPgConnection,
    user: UserId,
    as_client: bool,
    statuses: &[OrderStatus],
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
) -> QueryResult<i64> {
    let mut query = orders::table
        .filter(orders::status.eq_any(statuses))
        .filter(orders::due_at.lt(to))
        .select(count_star())
        .into_boxed();
    query = if as_client {
        query.filter(orders::client_id.eq(user))
    } else {
        query.filter(orders::creative_id.eq(user))
    };
    if let Some(from) = from {
        query = query.filter(orders::due_at.ge(from));
    }
    query.first(conn).await
}

#[derive(QueryableByName)]
struct Median {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    seconds: Option<i64>,
}

/// The creative's median time, in whole seconds, from an order's placement to their first answer
/// (a message, a confirmation or a decline), over orders placed in the last 30 days that have one.
pub async fn median_first_response(
    conn: &mut AsyncPgConnection,
    creative: UserId,
) -> QueryResult<Option<i64>> {
    let median: Median = diesel::sql_query(
        "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.seconds))::bigint AS seconds \
         FROM (SELECT extract(epoch FROM LEAST( \
                   (SELECT min(m.created_at) FROM messages m \
                     WHERE m.order_id = o.id AND m.sender_id = o.creative_id), \
                   (SELECT min(t.created_at) FROM order_transitions t \
                     WHERE t.order_id = o.id AND t.from_status = 'new' \
                       AND t.actor_role = 'creative')) - o.created_at) AS seconds \
               FROM orders o \
               WHERE o.creative_id = $1 AND o.created_at > now() - interval '30 days') r \
         WHERE r.seconds IS NOT NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(creative)
    .get_result(conn)
    .await?;
    Ok(median.seconds)
}
