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
