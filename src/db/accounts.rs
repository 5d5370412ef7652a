//! What the support team reads and changes on accounts: search, enable and disable.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::orders::OrderRow;
use super::schema::{orders, users};
use super::users::UserRow;
use crate::domain::ids::{OrderId, UserId};

/// `%`, `_` and `\` in a search taken literally.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Users whose address or name contains `q` (case-insensitive), newest first, after `before`.
pub async fn search(
    conn: &mut AsyncPgConnection,
    q: Option<&str>,
    before: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table.into_boxed();
    if let Some(q) = q.filter(|q| !q.is_empty()) {
        let p = like_pattern(q);
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(lower(email) LIKE lower(")
                .bind::<diesel::sql_types::Text, _>(p.clone())
                .sql(") OR lower(display_name) LIKE lower(")
                .bind::<diesel::sql_types::Text, _>(p)
                .sql("))"),
        );
    }
    if let Some(b) = before {
        query = query.filter(users::id.lt(b));
    }
    query
        .order(users::id.desc())
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)
        .await
}

/// The account, locked until the transaction ends. `FOR NO KEY UPDATE`: rows that reference the
/// user (a refresh token being issued, an audit entry) take `KEY SHARE`, which this does not block,
/// so disabling cannot deadlock with the user's own refresh.
pub async fn lock(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()
}

/// Disables (`Some(now)`) or enables (`None`) an account.
pub async fn set_disabled(
    conn: &mut AsyncPgConnection,
    id: UserId,
    disabled: bool,
) -> QueryResult<UserRow> {
    let at: Option<DateTime<Utc>> = disabled.then(Utc::now);
    diesel::update(users::table.find(id))
        .set((
            users::disabled_at.eq(at),
            users::version.eq(users::version + 1),
            users::updated_at.eq(now),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

/// The user's most recent orders, on either side.
pub async fn recent_orders(
    conn: &mut AsyncPgConnection,
    user: UserId,
    limit: i64,
) -> QueryResult<Vec<OrderRow>> {
    orders::table
        .filter(orders::client_id.eq(user).or(orders::creative_id.eq(user)))
        .order(orders::id.desc())
        .limit(limit)
        .select(OrderRow::as_select())
        .load(conn)
        .await
}

/// Moves an order's due date (the row is locked by the caller).
pub async fn set_due(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    due_at: DateTime<Utc>,
) -> QueryResult<OrderRow> {
    diesel::update(orders::table.find(id))
        .set((
            orders::due_at.eq(due_at),
            orders::version.eq(orders::version + 1),
            orders::updated_at.eq(now),
        ))
        .returning(OrderRow::as_returning())
        .get_result(conn)
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn searches_take_wildcards_literally() {
        assert_eq!(super::like_pattern("A_b%"), "%A\\_b\\%%");
    }
}
