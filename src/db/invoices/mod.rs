//! Invoices and the per-creative counters that number them. Visibility lives in the queries: the
//! issuing creative sees their drafts, the client sees what was sent to them, admins see all.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::orders::Viewer;
use super::schema::{invoice_counters, invoices};
use crate::domain::billing::invoice::InvoiceStatus;
use crate::domain::billing::profile::BillingDetails;
use crate::domain::billing::terms::PaymentMethod;
use crate::domain::billing::totals::{Discount, LineItem, Totals};
use crate::domain::ids::{InvoiceId, OrderId, UserId};

mod list;

pub use list::*;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: InvoiceId,
    pub order_id: OrderId,
    pub issuer_id: UserId,
    pub recipient_id: UserId,
    pub status: InvoiceStatus,
    pub number: Option<String>,
    pub currency: String,
    pub line_items: serde_json::Value,
    pub discount_amount_off: Option<i64>,
    pub discount_percent_off_bps: Option<i32>,
    pub tax_rate_bps: i32,
    pub subtotal: i64,
    pub discount_amount: i64,
    pub tax_amount: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub due_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub issuer_billing: Option<serde_json::Value>,
    pub recipient_billing: Option<serde_json::Value>,
    pub paid_out_of_band: bool,
    pub payment_method: Option<PaymentMethod>,
    pub payment_reference: Option<String>,
    pub version: i64,
    pub sent_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub marked_uncollectible_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceRow {
    /// Written only from checked lines; an unreadable value would be a bug, shown as no lines.
    pub fn lines(&self) -> Vec<LineItem> {
        serde_json::from_value(self.line_items.clone()).unwrap_or_default()
    }

    pub fn discount(&self) -> Option<Discount> {
        match (self.discount_amount_off, self.discount_percent_off_bps) {
            (Some(a), _) => Some(Discount::AmountOff(a)),
            (None, Some(p)) => Some(Discount::PercentOffBps(p.into())),
            _ => None,
        }
    }

    pub fn billing(value: &Option<serde_json::Value>) -> Option<BillingDetails> {
        value
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// What is still owed: nothing on a voided invoice.
    pub fn amount_due(&self) -> i64 {
        if self.status == InvoiceStatus::Void {
            0
        } else {
            self.total - self.amount_paid
        }
    }

    /// Open and past its due date.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == InvoiceStatus::Open && self.due_at.is_some_and(|d| d < now)
    }
}

/// The content of a draft: its lines, discount, tax, due date and memo, with their totals.
pub struct DraftContent {
    pub lines: Vec<LineItem>,
    pub discount: Option<Discount>,
    pub tax_rate_bps: i64,
    pub totals: Totals,
    pub due_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
}

type ContentValues<'a> = (
    diesel::dsl::Eq<invoices::line_items, serde_json::Value>,
    diesel::dsl::Eq<invoices::discount_amount_off, Option<i64>>,
    diesel::dsl::Eq<invoices::discount_percent_off_bps, Option<i32>>,
    diesel::dsl::Eq<invoices::tax_rate_bps, i32>,
    diesel::dsl::Eq<invoices::subtotal, i64>,
    diesel::dsl::Eq<invoices::discount_amount, i64>,
    diesel::dsl::Eq<invoices::tax_amount, i64>,
    diesel::dsl::Eq<invoices::total, i64>,
    diesel::dsl::Eq<invoices::due_at, Option<DateTime<Utc>>>,
    diesel::dsl::Eq<invoices::memo, Option<&'a str>>,
);

impl DraftContent {
    fn values(&self) -> ContentValues<'_> {
        let (off, pct) = match self.discount {
            Some(Discount::AmountOff(a)) => (Some(a), None),
            // Checked to at most 10 000 basis points.
            Some(Discount::PercentOffBps(p)) => (None, Some(p as i32)),
            None => (None, None),
        };
        (
            invoices::line_items.eq(serde_json::to_value(&self.lines).unwrap_or_default()),
            invoices::discount_amount_off.eq(off),
            invoices::discount_percent_off_bps.eq(pct),
            invoices::tax_rate_bps.eq(self.tax_rate_bps as i32),
            invoices::subtotal.eq(self.totals.subtotal),
            invoices::discount_amount.eq(self.totals.discount),
            invoices::tax_amount.eq(self.totals.tax),
            invoices::total.eq(self.totals.total),
            invoices::due_at.eq(self.due_at),
            invoices::memo.eq(self.memo.as_deref()),
        )
    }
}

pub async fn insert_draft(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    issuer: UserId,
    recipient: UserId,
    currency: &str,
    content: &DraftContent,
) -> QueryResult<InvoiceRow> {
    diesel::insert_into(invoices::table)
        .values((
            invoices::id.eq(InvoiceId::new()),
            invoices::order_id.eq(order),
            invoices::issuer_id.eq(issuer),
            invoices::recipient_id.eq(recipient),
            invoices::currency.eq(currency),
            content.values(),
        ))
        .returning(InvoiceRow::as_returning())
        .get_result(conn)
        .await
}

/// The invoice if the viewer may see it: its issuer, its recipient once it is sent, or an admin.
pub async fn find_visible(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    viewer: Viewer,
) -> QueryResult<Option<InvoiceRow>> {
    let mut q = invoices::table
        .filter(invoices::id.eq(id))
        .select(InvoiceRow::as_select())
        .into_boxed();
    if !viewer.is_admin {
        q = q.filter(
            invoices::issuer_id
                .eq(viewer.user_id)
                .or(invoices::recipient_id
                    .eq(viewer.user_id)
                    .and(invoices::status.ne(InvoiceStatus::Draft))),
        );
    }
    q.first(conn).await.optional()
}

/// Locks the invoice for the rest of the transaction.
pub async fn lock(conn: &mut AsyncPgConnection, id: InvoiceId) -> QueryResult<Option<InvoiceRow>> {
    invoices::table
        .find(id)
        .select(InvoiceRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Replaces a locked draft's content.
pub async fn update_draft(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    content: &DraftContent,
) -> QueryResult<InvoiceRow> {
    diesel::update(invoices::table.find(id))
        .set((
            content.values(),
            invoices::version.eq(invoices::version + 1),
            invoices::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvoiceRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete_draft(conn: &mut AsyncPgConnection, id: InvoiceId) -> QueryResult<usize> {
    diesel::delete(
        invoices::table
            .find(id)
            .filter(invoices::status.eq(InvoiceStatus::Draft)),
    )
    .execute(conn)
    .await
}

/// The creative's next invoice number in `year`, holding the counter's lock until commit.
pub async fn next_number(
    conn: &mut AsyncPgConnection,
    issuer: UserId,
    year: i32,
) -> QueryResult<i32> {
    use invoice_counters::dsl as c;
    diesel::insert_into(c::invoice_counters)
        .values((
            c::issuer_id.eq(issuer),
            c::year.eq(year),
            c::last_number.eq(1),
        ))
        .on_conflict((c::issuer_id, c::year))
        .do_update()
        .set(c::last_number.eq(c::last_number + 1))
        .returning(c::last_number)
        .get_result(conn)
        .await
}

pub struct Sending<'a> {
    pub number: &'a str,
    pub issuer: &'a BillingDetails,
    pub recipient: Option<&'a BillingDetails>,
}

/// Turns a locked draft into an open invoice, frozen with its number and both parties' details.
pub async fn mark_sent(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    s: Sending<'_>,
) -> QueryResult<InvoiceRow> {
    let issuer = serde_json::to_value(s.issuer).unwrap_or_default();
    let recipient = s.recipient.and_then(|r| serde_json::to_value(r).ok());
    diesel::update(invoices::table.find(id))
        .set((
            invoices::status.eq(InvoiceStatus::Open),
            invoices::number.eq(s.number),
            invoices::issuer_billing.eq(issuer),
            invoices::recipient_billing.eq(recipient),
            invoices::sent_at.eq(diesel::dsl::now),
            invoices::version.eq(invoices::version + 1),
            invoices::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvoiceRow::as_returning())
        .get_result(conn)
        .await
}

/// Records money paid through the platform on a locked open invoice: the new amount paid and
/// status (`paid` once it reaches the total).
pub async fn record_payment(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    amount_paid: i64,
    status: InvoiceStatus,
) -> QueryResult<InvoiceRow> {
    let paid_at = (status == InvoiceStatus::Paid).then(Utc::now);
    diesel::update(invoices::table.find(id))
        .set((
            invoices::amount_paid.eq(amount_paid),
            invoices::status.eq(status),
            invoices::paid_at.eq(paid_at),
            invoices::version.eq(invoices::version + 1),
            invoices::updated_at.eq(diesel::dsl::now),
        ))
        .returning(InvoiceRow::as_returning())
        .get_result(conn)
        .await
}

/// The new state of a locked, sent invoice after the creative's action.
pub enum Closing<'a> {
    Void,
    Uncollectible,
    PaidOutOfBand {
        method: PaymentMethod,
        reference: &'a str,
    },
}

pub async fn close(
    conn: &mut AsyncPgConnection,
    row: &InvoiceRow,
    how: Closing<'_>,
) -> QueryResult<InvoiceRow> {
    use diesel::dsl::now;
    use invoices::dsl as i;
    let target = invoices::table.find(row.id);
    let bump = (i::version.eq(i::version + 1), i::updated_at.eq(now));
    match how {
        Closing::Void => {
            diesel::update(target)
                .set((
                    i::status.eq(InvoiceStatus::Void),
                    i::voided_at.eq(now),
                    bump,
                ))
                .returning(InvoiceRow::as_returning())
                .get_result(conn)
                .await
        }
        Closing::Uncollectible => {
            diesel::update(target)
                .set((
                    i::status.eq(InvoiceStatus::Uncollectible),
                    i::marked_uncollectible_at.eq(now),
                    bump,
                ))
                .returning(InvoiceRow::as_returning())
                .get_result(conn)
                .await
        }
        Closing::PaidOutOfBand { method, reference } => {
            diesel::update(target)
                .set((
                    i::status.eq(InvoiceStatus::Paid),
                    i::amount_paid.eq(row.total),
                    i::paid_at.eq(now),
                    i::paid_out_of_band.eq(true),
                    i::payment_method.eq(method),
                    i::payment_reference.eq(reference),
                    bump,
                ))
                .returning(InvoiceRow::as_returning())
                .get_result(conn)
                .await
        }
    }
}

/// What the order's sent invoices add up to before tax (voided ones do not count), leaving `except`
/// out.
pub async fn invoiced_before_tax(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    except: Option<InvoiceId>,
) -> QueryResult<i64> {
    let counted: Vec<InvoiceStatus> = InvoiceStatus::ALL
        .into_iter()
        .filter(InvoiceStatus::counts_as_invoiced)
        .collect();
    let mut q = invoices::table
        .filter(invoices::order_id.eq(order))
        .into_boxed();
    if let Some(except) = except {
        q = q.filter(invoices::id.ne(except));
    }
    q.filter(invoices::status.eq_any(counted))
        .select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "COALESCE(SUM(subtotal - discount_amount), 0)::bigint",
        ))
        .get_result(conn)
        .await
}
