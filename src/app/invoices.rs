//! Invoices: the order's creative writes drafts, sends them (numbering them without gaps), and
//! closes them. Every write locks the order row, then the invoice, then (on send) the creative's
//! counter: one order for every path, so none can deadlock, and the amount invoiced on an order is
//! checked against its terms while no other invoice of the order can change.

use chrono::Datelike;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::invoices::{self, Closing, DraftContent, InvoiceRow, Sending};
use crate::db::{billing, orders, outbox};
use crate::domain::billing::document::{self, InvoiceDocument, InvoiceFacts, PartyFacts};
use crate::domain::billing::invoice::{self as machine, InvoiceAction};
use crate::domain::billing::terms::PaymentMethod;
use crate::domain::events::{Event, EventPrice, InvoiceClosed, InvoicePaid, InvoiceSent};
use crate::domain::ids::{InvoiceId, OrderId};
use crate::domain::order::{Clock, OrderStatus};
use crate::error::{ApiError, FieldError};

pub async fn visible(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    caller: orders::Viewer,
) -> Result<InvoiceRow, ApiError> {
    invoices::find_visible(conn, id, caller)
        .await?
        .ok_or(ApiError::NotFound("invoice"))
}

/// The invoice if the caller issued it: 404 if they cannot see it, 403 if they only receive it.
async fn issued_by_caller(
    conn: &mut AsyncPgConnection,
    id: InvoiceId,
    caller: orders::Viewer,
) -> Result<InvoiceRow, ApiError> {
    let row = visible(conn, id, caller).await?;
    if row.issuer_id != caller.user_id {
        return Err(ApiError::Forbidden {
            code: "not_the_issuer",
            detail: "Only the creative who issued an invoice may change it.".into(),
        });
    }
    Ok(row)
}

fn check_open(order: &orders::OrderRow) -> Result<(), ApiError> {
    match order.status() {
        OrderStatus::Declined | OrderStatus::Cancelled => Err(ApiError::conflict(
            "order_closed",
            "Order closed",
            format!(
                "The order is {}; nothing is to be invoiced on it.",
                order.status().as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// What may be invoiced on the order before tax: the accepted terms' amount, or the order's price
/// while no terms are accepted. Call with the order locked.
async fn check_within_terms(
    conn: &mut AsyncPgConnection,
    order: &orders::OrderRow,
    invoice: Option<InvoiceId>,
    taxable: i64,
) -> Result<(), ApiError> {
    let cap = match billing::accepted(conn, order.id).await? {
        Some(terms) => terms.amount,
        None => order.price_amount,
    };
    let already = invoices::invoiced_before_tax(conn, order.id, invoice).await?;
    if already.saturating_add(taxable) > cap {
        return Err(ApiError::Validation(vec![FieldError::new(
            "line_items",
            "exceeds_agreed_amount",
            format!(
                "The order's invoices would come to {} before tax, more than the {} agreed; \
                 propose new payment terms for the client to accept first.",
                already.saturating_add(taxable),
                cap
            ),
        )]));
    }
    Ok(())
}

/// The creative drafts an invoice for one of their orders. An `order_id` the caller cannot see is a
/// 422 on that field, as every id in a body.
pub async fn create(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    order_id: OrderId,
    content: &DraftContent,
) -> Result<InvoiceRow, ApiError> {
    let order = orders::find_visible(conn, order_id, caller)
        .await?
        .ok_or_else(|| {
            ApiError::validation("order_id", "unknown_order", "no such order of yours")
        })?;
    if order.creative_id != caller.user_id {
        // An id in a body the caller may not use is that field's problem (as for a service id).
        return Err(ApiError::validation(
            "order_id",
            "not_the_creative",
            "only the order's creative invoices it",
        ));
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, order_id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        check_open(&order)?;
        check_within_terms(conn, &order, None, content.totals.taxable).await?;
        let row = invoices::insert_draft(
            conn,
            order.id,
            order.creative_id,
            order.client_id,
            &order.price_currency,
            content,
        )
        .await?;
        Ok(row)
    })
    .await
}

/// Under the order's and the invoice's locks: the invoice as it now is, if `action` is allowed on
/// it and `expected` (the `If-Match` version) still names it.
async fn lock_for(
    conn: &mut AsyncPgConnection,
    row: &InvoiceRow,
    expected: Option<i64>,
    action: InvoiceAction,
) -> Result<(orders::OrderRow, InvoiceRow), ApiError> {
    let order = orders::lock(conn, row.order_id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let current = invoices::lock(conn, row.id)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed {
            current_version: current.version,
        });
    }
    machine::check(current.status, current.amount_paid, action)
        .map_err(|r| ApiError::conflict(r.code, "Invoice action not allowed", r.message))?;
    Ok((order, current))
}

/// Replaces a draft's content (the handler merges the fields sent with the draft's own).
pub async fn update(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: InvoiceId,
    expected: Option<i64>,
    edit: impl FnOnce(&InvoiceRow) -> Result<DraftContent, ApiError> + Send,
) -> Result<InvoiceRow, ApiError> {
    let row = issued_by_caller(conn, id, caller).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (order, current) = lock_for(conn, &row, expected, InvoiceAction::Edit).await?;
        let content = edit(&current)?;
        check_within_terms(conn, &order, Some(id), content.totals.taxable).await?;
        Ok(invoices::update_draft(conn, id, &content).await?)
    })
    .await
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: InvoiceId,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    let row = issued_by_caller(conn, id, caller).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        lock_for(conn, &row, expected, InvoiceAction::Delete).await?;
        invoices::delete_draft(conn, id).await?;
        Ok(())
    })
    .await
}

fn total_of(row: &InvoiceRow, amount: i64) -> EventPrice {
    EventPrice {
        amount,
        currency: row.currency.clone(),
    }
}

/// Sends a draft: numbered, frozen with both parties' billing details, the client notified.
pub async fn send(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: InvoiceId,
    expected: Option<i64>,
    clock: &Clock,
) -> Result<InvoiceRow, ApiError> {
    let row = issued_by_caller(conn, id, caller).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (order, current) = lock_for(conn, &row, expected, InvoiceAction::Send).await?;
        check_open(&order)?;
        if current.due_at.is_some_and(|d| d <= clock.now) {
            return Err(ApiError::validation(
                "due_at",
                "not_in_future",
                "the invoice's due date has passed; set a new one before sending it",
            ));
        }
        let issuer = billing::profile(conn, current.issuer_id)
            .await?
            .ok_or_else(missing_billing_profile)?
            .details();
        let recipient = billing::profile(conn, current.recipient_id)
            .await?
            .map(|p| p.details());
        check_within_terms(
            conn,
            &order,
            Some(id),
            current.subtotal - current.discount_amount,
        )
        .await?;
        let year = clock.now.year();
        let sequence = invoices::next_number(conn, current.issuer_id, year).await?;
        let number = machine::number(year, sequence);
        let sending = Sending {
            number: &number,
            issuer: &issuer,
            recipient: recipient.as_ref(),
        };
        let sent = invoices::mark_sent(conn, id, sending).await?;
        let event = InvoiceSent {
            invoice_id: id,
            order_id: sent.order_id,
            number,
            issuer_id: sent.issuer_id,
            recipient_id: sent.recipient_id,
            total: total_of(&sent, sent.total),
            due_at: sent.due_at,
        };
        outbox::insert(conn, &Event::InvoiceSent(event)).await?;
        Ok(sent)
    })
    .await
}

fn missing_billing_profile() -> ApiError {
    ApiError::validation(
        "billing_profile",
        "missing",
        "an invoice carries its issuer's legal name, address and country: set them with \
         PUT /v1/me/billing-profile before sending",
    )
}

/// How the creative closes a sent invoice.
pub enum Close<'a> {
    Void,
    Uncollectible,
    /// Paid outside the platform (bank transfer, PayPal), recorded by the creative.
    PaidOutOfBand {
        method: PaymentMethod,
        reference: &'a str,
    },
}

pub async fn close(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: InvoiceId,
    expected: Option<i64>,
    how: Close<'_>,
) -> Result<InvoiceRow, ApiError> {
    let (action, closing) = match how {
        Close::Void => (InvoiceAction::Void, Closing::Void),
        Close::Uncollectible => (InvoiceAction::MarkUncollectible, Closing::Uncollectible),
        Close::PaidOutOfBand { method, reference } => {
            if method.through_platform() {
                return Err(ApiError::validation(
                    "method",
                    "paid_through_platform",
                    "card payments are made through the platform; record only money received \
                     by bank transfer or PayPal",
                ));
            }
            (
                InvoiceAction::MarkPaid,
                Closing::PaidOutOfBand { method, reference },
            )
        }
    };
    let row = issued_by_caller(conn, id, caller).await?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (_, current) = lock_for(conn, &row, expected, action).await?;
        if crate::db::payments::reserved_on_invoice(conn, current.id).await? > 0 {
            return Err(ApiError::conflict(
                "payment_in_progress",
                "Payment in progress",
                "A card payment of this invoice is being processed: wait for its outcome.",
            ));
        }
        let closed = invoices::close(conn, &current, closing).await?;
        outbox::insert(conn, &closed_event(&closed)).await?;
        Ok(closed)
    })
    .await
}

fn closed_event(row: &InvoiceRow) -> Event {
    let number = row.number.clone().unwrap_or_default();
    let closed = InvoiceClosed {
        invoice_id: row.id,
        order_id: row.order_id,
        number: number.clone(),
        issuer_id: row.issuer_id,
        recipient_id: row.recipient_id,
    };
    match row.status {
        machine::InvoiceStatus::Void => Event::InvoiceVoided(closed),
        machine::InvoiceStatus::Paid => Event::InvoicePaid(InvoicePaid {
            invoice_id: row.id,
            order_id: row.order_id,
            number,
            issuer_id: row.issuer_id,
            recipient_id: row.recipient_id,
            amount_paid: total_of(row, row.amount_paid),
            out_of_band: row.paid_out_of_band,
        }),
        _ => Event::InvoiceMarkedUncollectible(closed),
    }
}

/// The invoice as printed, for whoever may see it: sent invoices show the billing details copied
/// when they were sent; a draft shows the details as they stand now.
pub async fn printable(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: InvoiceId,
) -> Result<InvoiceDocument, ApiError> {
    let row = visible(conn, id, caller).await?;
    let order = orders::find_visible(conn, row.order_id, caller)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    let names = crate::db::users::display_names(conn, &[row.issuer_id, row.recipient_id]).await?;
    let name = |id| {
        names
            .iter()
            .find(|(u, _)| *u == id)
            .map_or("", |(_, n)| n.as_str())
    };
    // A draft shows its creative's own details as they stand; the client's are copied only when
    // the invoice is sent to them, so a draft never shows the creative the client's current ones.
    let (issuer, recipient) = if row.status == machine::InvoiceStatus::Draft {
        (
            billing::profile(conn, row.issuer_id)
                .await?
                .map(|p| p.details()),
            None,
        )
    } else {
        (
            InvoiceRow::billing(&row.issuer_billing),
            InvoiceRow::billing(&row.recipient_billing),
        )
    };
    let lines = row.lines();
    Ok(document::build(&InvoiceFacts {
        number: row.number.as_deref(),
        status: row.status,
        currency: &row.currency,
        order_title: &order.title,
        sent_at: row.sent_at,
        due_at: row.due_at,
        issuer: PartyFacts {
            display_name: name(row.issuer_id),
            billing: issuer.as_ref(),
        },
        recipient: PartyFacts {
            display_name: name(row.recipient_id),
            billing: recipient.as_ref(),
        },
        lines: &lines,
        subtotal: row.subtotal,
        discount: row.discount_amount,
        tax_rate_bps: row.tax_rate_bps.into(),
        tax: row.tax_amount,
        total: row.total,
        amount_paid: row.amount_paid,
        amount_due: row.amount_due(),
        memo: row.memo.as_deref(),
    }))
}
