//! Payments of invoices through the platform, and their refunds.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{payments, refunds};
use crate::domain::ids::{InvoiceId, OrderId, PaymentId, RefundId, UserId};
use crate::domain::payments::{PaymentStatus, TransferStatus};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: PaymentId,
    pub invoice_id: InvoiceId,
    pub order_id: OrderId,
    pub client_id: UserId,
    pub creative_id: UserId,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub provider: String,
    pub provider_payment_id: Option<String>,
    pub failure_code: Option<String>,
    pub next_action: Option<serde_json::Value>,
    pub amount_refunded: i64,
    pub idempotency_key: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
pub struct RefundRow {
    pub id: RefundId,
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub amount: i64,
    pub currency: String,
    pub status: TransferStatus,
    pub reason: String,
    pub requested_by: Option<UserId>,
    pub provider_refund_id: Option<String>,
    pub failure_code: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Inserts the payment, or finds the one this client's key already made (a retry after a crash).
pub async fn insert_or_existing(
    conn: &mut AsyncPgConnection,
    row: &PaymentRow,
) -> QueryResult<PaymentRow> {
    let inserted = diesel::insert_into(payments::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(PaymentRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(p) => Ok(p),
        None => {
            payments::table
                .filter(payments::client_id.eq(row.client_id))
                .filter(payments::idempotency_key.eq(&row.idempotency_key))
                .select(PaymentRow::as_select())
                .first(conn)
                .await
        }
    }
}

pub async fn find(conn: &mut AsyncPgConnection, id: PaymentId) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn lock(conn: &mut AsyncPgConnection, id: PaymentId) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .find(id)
        .select(PaymentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_provider_id(
    conn: &mut AsyncPgConnection,
    provider_id: &str,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::provider_payment_id.eq(provider_id))
        .select(PaymentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// The payment this client's key opened, if any.
pub async fn by_key(
    conn: &mut AsyncPgConnection,
    client: UserId,
    key: &str,
) -> QueryResult<Option<PaymentRow>> {
    payments::table
        .filter(payments::client_id.eq(client))
        .filter(payments::idempotency_key.eq(key))
        .select(PaymentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Payments to give up on: pending without the provider's id since before `unsubmitted`, or
/// waiting on the client's authentication since before `action`.
pub async fn abandoned(
    conn: &mut AsyncPgConnection,
    unsubmitted: DateTime<Utc>,
    action: DateTime<Utc>,
) -> QueryResult<Vec<(PaymentId, PaymentStatus)>> {
    payments::table
        .filter(
            payments::status
                .eq(PaymentStatus::Pending)
                .and(payments::provider_payment_id.is_null())
                .and(payments::updated_at.lt(unsubmitted))
                .or(payments::status
                    .eq(PaymentStatus::RequiresAction)
                    .and(payments::updated_at.lt(action))),
        )
        .limit(50)
        .select((payments::id, payments::status))
        .load(conn)
        .await
}

/// What payments still in flight reserve of an invoice.
pub async fn reserved_on_invoice(
    conn: &mut AsyncPgConnection,
    invoice: InvoiceId,
) -> QueryResult<i64> {
    let amounts: Vec<i64> = payments::table
        .filter(payments::invoice_id.eq(invoice))
        .filter(payments::status.eq_any([PaymentStatus::Pending, PaymentStatus::RequiresAction]))
        .select(payments::amount)
        .load(conn)
        .await?;
    Ok(amounts.iter().sum())
}

/// Records where a payment stands (the row is locked by the caller; `provider_id` is the final
/// value, the caller keeping any it had).
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    id: PaymentId,
    status: PaymentStatus,
    provider_id: Option<&str>,
    failure_code: Option<&str>,
    next_action: Option<&serde_json::Value>,
) -> QueryResult<PaymentRow> {
    let succeeded_at = (status == PaymentStatus::Succeeded).then(Utc::now);
    diesel::update(payments::table.find(id))
        .set((
            payments::status.eq(status),
            payments::provider_payment_id.eq(provider_id),
            payments::failure_code.eq(failure_code),
            payments::next_action.eq(next_action),
            payments::succeeded_at.eq(succeeded_at),
            payments::version.eq(payments::version + 1),
            payments::updated_at.eq(now),
        ))
        .returning(PaymentRow::as_returning())
        .get_result(conn)
        .await
}

/// Adds `delta` (negative: gives back) to what is refunded of a payment.
pub async fn add_refunded(
    conn: &mut AsyncPgConnection,
    id: PaymentId,
    delta: i64,
) -> QueryResult<()> {
    diesel::update(payments::table.find(id))
        .set((
            payments::amount_refunded.eq(payments::amount_refunded + delta),
            payments::version.eq(payments::version + 1),
            payments::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Which payments a list shows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filter {
    /// The caller: only payments they made or received (none for an admin's list).
    pub party: Option<UserId>,
    pub invoice: Option<InvoiceId>,
    pub order: Option<OrderId>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    f: Filter,
    before: Option<PaymentId>,
    limit: i64,
) -> QueryResult<Vec<PaymentRow>> {
    let mut q = payments::table.into_boxed();
    if let Some(u) = f.party {
        q = q.filter(payments::client_id.eq(u).or(payments::creative_id.eq(u)));
    }
    if let Some(i) = f.invoice {
        q = q.filter(payments::invoice_id.eq(i));
    }
    if let Some(o) = f.order {
        q = q.filter(payments::order_id.eq(o));
    }
    if let Some(b) = before {
        q = q.filter(payments::id.lt(b));
    }
    q.order(payments::id.desc())
        .limit(limit)
        .select(PaymentRow::as_select())
        .load(conn)
        .await
}

/// Succeeded payments of an order with something left to refund, newest first, locked.
pub async fn refundable_of_order(
    conn: &mut AsyncPgConnection,
    order: OrderId,
) -> QueryResult<Vec<PaymentRow>> {
    payments::table
        .filter(payments::order_id.eq(order))
        .filter(payments::status.eq(PaymentStatus::Succeeded))
        .filter(payments::amount_refunded.lt(payments::amount))
        .order(payments::id.desc())
        .select(PaymentRow::as_select())
        .for_update()
        .load(conn)
        .await
}

/// Payments pending at the provider since before `before`: the worker asks where they stand.
pub async fn stale_pending(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<PaymentId>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Pending))
        .filter(payments::provider_payment_id.is_not_null())
        .filter(payments::updated_at.lt(before))
        .order(payments::updated_at.asc())
        .limit(limit)
        .select(payments::id)
        .load(conn)
        .await
}

pub async fn insert_refund(conn: &mut AsyncPgConnection, row: &RefundRow) -> QueryResult<()> {
    diesel::insert_into(refunds::table)
        .values(row)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Claims due pending refunds for one attempt each: they are not due again for `lease`.
pub async fn claim_refunds(
    conn: &mut AsyncPgConnection,
    lease: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<RefundRow>> {
    let due: Vec<RefundId> = refunds::table
        .filter(refunds::status.eq(TransferStatus::Pending))
        .filter(refunds::next_attempt_at.le(now))
        .order(refunds::next_attempt_at.asc())
        .limit(limit)
        .select(refunds::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    diesel::update(refunds::table.filter(refunds::id.eq_any(due)))
        .set((
            refunds::attempts.eq(refunds::attempts + 1),
            refunds::next_attempt_at.eq(Utc::now() + lease),
        ))
        .returning(RefundRow::as_returning())
        .get_results(conn)
        .await
}

/// When a claimed refund is tried next.
pub async fn retry_refund_at(
    conn: &mut AsyncPgConnection,
    id: RefundId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(refunds::table.find(id))
        .set(refunds::next_attempt_at.eq(at))
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn lock_refund(
    conn: &mut AsyncPgConnection,
    id: RefundId,
) -> QueryResult<Option<RefundRow>> {
    refunds::table
        .find(id)
        .select(RefundRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn find_refund_by_provider_id(
    conn: &mut AsyncPgConnection,
    provider_id: &str,
) -> QueryResult<Option<RefundRow>> {
    refunds::table
        .filter(refunds::provider_refund_id.eq(provider_id))
        .select(RefundRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn set_refund(
    conn: &mut AsyncPgConnection,
    id: RefundId,
    status: TransferStatus,
    provider_id: Option<&str>,
    failure_code: Option<&str>,
) -> QueryResult<RefundRow> {
    diesel::update(refunds::table.find(id))
        .set((
            refunds::status.eq(status),
            refunds::provider_refund_id.eq(provider_id),
            refunds::failure_code.eq(failure_code),
            refunds::updated_at.eq(now),
        ))
        .returning(RefundRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn refunds_of_payment(
    conn: &mut AsyncPgConnection,
    payment: PaymentId,
) -> QueryResult<Vec<RefundRow>> {
    refunds::table
        .filter(refunds::payment_id.eq(payment))
        .order(refunds::id.asc())
        .select(RefundRow::as_select())
        .load(conn)
        .await
}
