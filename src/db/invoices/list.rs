//! The caller's invoices, as issuer or recipient, newest first, in keyset pages.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::InvoiceRow;
use crate::db::schema::invoices;
use crate::domain::billing::invoice::InvoiceStatus;
use crate::domain::ids::{InvoiceId, OrderId, UserId};

pub struct InvoiceFilter {
    /// Any of these statuses; empty for all.
    pub status: Vec<InvoiceStatus>,
    pub order_id: Option<OrderId>,
    /// `Some(true)`: only open invoices past their due date; `Some(false)`: only the others.
    pub overdue: Option<bool>,
    /// Only invoices older than this one (the cursor).
    pub before: Option<InvoiceId>,
    pub limit: i64,
}

pub async fn list_for(
    conn: &mut AsyncPgConnection,
    user: UserId,
    f: &InvoiceFilter,
    now: DateTime<Utc>,
) -> QueryResult<Vec<InvoiceRow>> {
    use invoices::dsl as i;
    let mut q = i::invoices
        .filter(
            i::issuer_id.eq(user).or(i::recipient_id
                .eq(user)
                .and(i::status.ne(InvoiceStatus::Draft))),
        )
        .select(InvoiceRow::as_select())
        .into_boxed();
    if !f.status.is_empty() {
        q = q.filter(i::status.eq_any(f.status.clone()));
    }
    if let Some(order) = f.order_id {
        q = q.filter(i::order_id.eq(order));
    }
    match f.overdue {
        Some(true) => {
            q = q
                .filter(i::status.eq(InvoiceStatus::Open))
                .filter(i::due_at.lt(now));
        }
        Some(false) => {
            q = q.filter(
                i::status
                    .ne(InvoiceStatus::Open)
                    .or(i::due_at.is_null())
                    .or(i::due_at.ge(now)),
            );
        }
        None => {}
    }
    if let Some(before) = f.before {
        q = q.filter(i::id.lt(before));
    }
    q.order(i::id.desc()).limit(f.limit + 1).load(conn).await
}
