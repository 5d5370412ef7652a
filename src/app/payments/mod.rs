//! Paying an invoice through the platform. A payment is opened in one transaction (the invoice's
//! due amount reserved under the order's and the invoice's locks), charged at the provider with no
//! transaction open, and its outcome booked in another transaction: the invoice, the ledger and
//! the events together. The same outcome booked twice (a webhook and the worker) counts once.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::billing;
use crate::db::invoices::{self, InvoiceRow};
use crate::db::orders::{self, OrderRow, Viewer};
use crate::db::payments::{self, PaymentRow};
use crate::domain::billing::invoice::InvoiceStatus;
use crate::domain::billing::terms::Schedule;
use crate::domain::ids::{InvoiceId, PaymentId};
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::domain::payments::{self as rules, PaymentStatus};
use crate::error::ApiError;
use crate::provider::{Charge, PaymentProvider, Provider};

mod book;

pub use book::{book, settle_pending};

/// A client's request to pay an invoice.
pub struct PayRequest {
    /// `None`: all that is left to pay.
    pub amount: Option<Money>,
    /// The provider's token or a sandbox test number; never stored.
    pub method: String,
    pub key: String,
}

fn refused(r: rules::Refusal) -> ApiError {
    ApiError::validation(r.field, r.code, r.message)
}

/// The payment if the caller may see it: its client, the creative paid, or an admin.
pub async fn visible(
    conn: &mut AsyncPgConnection,
    caller: Viewer,
    id: PaymentId,
) -> Result<PaymentRow, ApiError> {
    payments::find(conn, id)
        .await?
        .filter(|p| {
            caller.is_admin || p.client_id == caller.user_id || p.creative_id == caller.user_id
        })
        .ok_or(ApiError::NotFound("payment"))
}

/// Opens the payment (or finds the one this key opened before), reserving its amount.
pub async fn open(
    conn: &mut AsyncPgConnection,
    caller: Viewer,
    invoice_id: InvoiceId,
    req: &PayRequest,
    provider: &str,
) -> Result<PaymentRow, ApiError> {
    let invoice = invoices::find_visible(conn, invoice_id, caller)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    if invoice.recipient_id != caller.user_id {
        return Err(ApiError::Forbidden {
            code: "not_the_client",
            detail: "Only the invoice's recipient pays it.".into(),
        });
    }
    // A retry of a request whose key outlived its first answer (a crash, a freed key): the
    // payment that key opened, whatever the invoice says now.
    if let Some(existing) = payments::by_key(conn, caller.user_id, &req.key).await? {
        let other_amount = req.amount.is_some_and(|m| m.amount() != existing.amount);
        if existing.invoice_id != invoice_id || other_amount {
            return Err(ApiError::validation(
                "Idempotency-Key",
                "key_reused",
                "this key was used for another payment",
            ));
        }
        return Ok(existing);
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, invoice.order_id)
            .await?
            .ok_or(ApiError::NotFound("invoice"))?;
        let invoice = invoices::lock(conn, invoice_id)
            .await?
            .ok_or(ApiError::NotFound("invoice"))?;
        let amount = checked_amount(conn, &order, &invoice, req).await?;
        let now = Utc::now();
        let row = PaymentRow {
            id: PaymentId::new(),
            invoice_id,
            order_id: order.id,
            client_id: invoice.recipient_id,
            creative_id: invoice.issuer_id,
            amount,
            currency: invoice.currency.clone(),
            status: PaymentStatus::Pending,
            provider: provider.to_string(),
            provider_payment_id: None,
            failure_code: None,
            next_action: None,
            amount_refunded: 0,
            idempotency_key: req.key.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
            succeeded_at: None,
        };
        let payment = payments::insert_or_existing(conn, &row).await?;
        if payment.invoice_id != invoice_id || payment.amount != amount {
            return Err(ApiError::validation(
                "Idempotency-Key",
                "key_reused",
                "this key was used for another payment",
            ));
        }
        Ok(payment)
    })
    .await
}

/// What this payment may take of the invoice: the refusals of an invoice that takes no payment,
/// of an amount in another currency, past what is due, or a part when the terms want the whole.
async fn checked_amount(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    invoice: &InvoiceRow,
    req: &PayRequest,
) -> Result<i64, ApiError> {
    if invoice.status != InvoiceStatus::Open {
        return Err(ApiError::conflict(
            "invoice_not_open",
            "Invoice not payable",
            format!(
                "The invoice is `{}`: only an open invoice is paid.",
                invoice.status.as_str()
            ),
        ));
    }
    if matches!(
        order.status(),
        OrderStatus::Cancelled | OrderStatus::Declined
    ) {
        return Err(ApiError::conflict(
            "order_closed",
            "Order closed",
            format!("The order is `{}`: nothing is paid on it.", order.status()),
        ));
    }
    let reserved = payments::reserved_on_invoice(conn, invoice.id).await?;
    let due = invoice.total - invoice.amount_paid;
    let amount = match req.amount {
        Some(m) if m.currency().code() != invoice.currency => {
            return Err(ApiError::validation(
                "amount.currency",
                "currency_mismatch",
                format!("must be the invoice's currency, {}", invoice.currency),
            ))
        }
        Some(m) => m.amount(),
        None => due - reserved,
    };
    let terms = billing::accepted(conn, order.id).await?;
    let partial = terms.is_some_and(|t| t.schedule == Schedule::Milestones);
    rules::check_payment(due, reserved, amount, partial).map_err(refused)?;
    Ok(amount)
}

/// Charges an opened payment that the provider has not seen yet, and books the outcome; a payment
/// already submitted is left as it stands (a retry of the same request).
pub async fn charge(
    conn: &mut AsyncPgConnection,
    provider: &Provider,
    payment: PaymentRow,
    method: &str,
    fee_bps: u32,
) -> Result<PaymentRow, ApiError> {
    if payment.status != PaymentStatus::Pending || payment.provider_payment_id.is_some() {
        return Ok(payment);
    }
    let charge = Charge {
        payment_id: payment.id,
        amount: payment.amount,
        currency: &payment.currency,
        method,
        description: format!("CreateSpace invoice {}", payment.invoice_id),
    };
    match provider.charge(charge).await {
        Ok(outcome) => book(conn, payment.id, &outcome, fee_bps).await,
        Err(e) => {
            // The payment stays pending: the provider's webhook (which names it) or the worker
            // settles it; the client sees `pending`.
            tracing::warn!(payment_id = %payment.id, error = %e, "charge not confirmed by the provider");
            Ok(payment)
        }
    }
}

/// The client confirms a payment that required their action (3-D Secure) once they took it.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    provider: &Provider,
    caller: Viewer,
    id: PaymentId,
    fee_bps: u32,
) -> Result<PaymentRow, ApiError> {
    let payment = visible(conn, caller, id).await?;
    if payment.client_id != caller.user_id {
        return Err(ApiError::Forbidden {
            code: "not_the_client",
            detail: "Only the client who made the payment confirms it.".into(),
        });
    }
    let order = orders::find_visible(conn, payment.order_id, caller).await?;
    if order.is_some_and(|o| matches!(o.status(), OrderStatus::Cancelled | OrderStatus::Declined)) {
        return Err(ApiError::conflict(
            "order_closed",
            "Order closed",
            "The order is closed: nothing more is paid on it.",
        ));
    }
    let (PaymentStatus::RequiresAction, Some(provider_id)) =
        (payment.status, payment.provider_payment_id.as_deref())
    else {
        return Err(ApiError::conflict(
            "nothing_to_confirm",
            "Nothing to confirm",
            format!(
                "The payment is `{}`: only one that requires action is confirmed.",
                payment.status.as_str()
            ),
        ));
    };
    let outcome = match provider.confirm(provider_id).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(payment_id = %id, error = %e, "payment provider unavailable");
            return Err(ApiError::Busy {
                retry_after_secs: 5,
            });
        }
    };
    book(conn, id, &outcome, fee_bps).await
}
