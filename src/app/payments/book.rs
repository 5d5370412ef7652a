//! Booking what the provider says of a payment: once, whoever reports it (the request, the worker
//! or Stripe's webhook), with the invoice, the ledger and the events in one transaction.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::invoices::{self, InvoiceRow};
use crate::db::orders::{self, OrderRow};
use crate::db::outbox;
use crate::db::payments::{self, PaymentRow};
use crate::domain::billing::invoice::{after_payment, InvoiceStatus};
use crate::domain::events::{Event, EventPrice, InvoicePaid, PaymentFailed, PaymentSucceeded};
use crate::domain::ids::PaymentId;
use crate::domain::order::OrderStatus;
use crate::domain::payments::PaymentStatus;
use crate::error::ApiError;
use crate::provider::{ChargeOutcome, ChargeStatus, PaymentProvider, Provider};

/// Books what the provider says of a payment, once: the payment's status and, on success, the
/// invoice, the ledger and the events, in one transaction under the order's, the invoice's and
/// the payment's locks (in that order, as everywhere). A success reported for a payment already
/// booked changes nothing.
pub async fn book(
    conn: &mut AsyncPgConnection,
    id: PaymentId,
    outcome: &ChargeOutcome,
    fee_bps: u32,
) -> Result<PaymentRow, ApiError> {
    let known = payments::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("payment"))?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, known.order_id)
            .await?
            .ok_or(ApiError::NotFound("order"))?;
        let invoice = invoices::lock(conn, known.invoice_id)
            .await?
            .ok_or(ApiError::NotFound("invoice"))?;
        let p = payments::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("payment"))?;
        let provider_id = outcome
            .provider_id
            .as_deref()
            .or(p.provider_payment_id.as_deref())
            .map(String::from);
        match (&outcome.status, p.status) {
            (_, PaymentStatus::Succeeded) => Ok(p),
            (ChargeStatus::Succeeded, _) => {
                succeed(conn, &order, &invoice, &p, provider_id.as_deref(), fee_bps).await
            }
            (_, PaymentStatus::Failed) => Ok(p),
            (ChargeStatus::Pending, _) => Ok(payments::set_status(
                conn,
                id,
                PaymentStatus::Pending,
                provider_id.as_deref(),
                None,
                None,
            )
            .await?),
            (ChargeStatus::RequiresAction(next), _) => Ok(payments::set_status(
                conn,
                id,
                PaymentStatus::RequiresAction,
                provider_id.as_deref(),
                None,
                Some(next),
            )
            .await?),
            (ChargeStatus::Failed(code), _) => fail(conn, &p, provider_id.as_deref(), code).await,
        }
    })
    .await
}

fn price(p: &PaymentRow, amount: i64) -> EventPrice {
    EventPrice {
        amount,
        currency: p.currency.clone(),
    }
}

async fn succeed(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    invoice: &InvoiceRow,
    p: &PaymentRow,
    provider_id: Option<&str>,
    fee_bps: u32,
) -> Result<PaymentRow, ApiError> {
    let status = PaymentStatus::Succeeded;
    let paid = payments::set_status(conn, p.id, status, provider_id, None, None).await?;
    let takes = p.status != PaymentStatus::Failed
        && invoice.status == InvoiceStatus::Open
        && !matches!(
            order.status(),
            OrderStatus::Cancelled | OrderStatus::Declined
        );
    let applied = after_payment(invoice.total, invoice.amount_paid, p.amount)
        .ok()
        .filter(|_| takes);
    let Some((amount_paid, invoice_status)) = applied else {
        // Money arrived that the order or invoice can no longer take: a success reported after
        // the payment was given up on, on an order cancelled meanwhile, or on an invoice closed
        // or paid otherwise since. It goes through escrow straight back to the client.
        tracing::warn!(payment_id = %p.id, "a success that cannot be taken: refunding it");
        crate::app::escrow::book_into_escrow(conn, order, &paid).await?;
        crate::app::escrow::refund_payment(conn, &paid, p.amount, "not_due", None).await?;
        return Ok(paid);
    };
    crate::app::escrow::book_payment(conn, order, &paid, fee_bps).await?;
    let event = PaymentSucceeded {
        payment_id: p.id,
        invoice_id: p.invoice_id,
        order_id: p.order_id,
        client_id: p.client_id,
        creative_id: p.creative_id,
        amount: price(p, p.amount),
    };
    outbox::insert(conn, &Event::PaymentSucceeded(event)).await?;
    let row = invoices::record_payment(conn, invoice.id, amount_paid, invoice_status).await?;
    if invoice_status == InvoiceStatus::Paid {
        let event = InvoicePaid {
            invoice_id: row.id,
            order_id: row.order_id,
            number: row.number.clone().unwrap_or_default(),
            issuer_id: row.issuer_id,
            recipient_id: row.recipient_id,
            amount_paid: price(p, row.amount_paid),
            out_of_band: false,
        };
        outbox::insert(conn, &Event::InvoicePaid(event)).await?;
    }
    Ok(paid)
}

async fn fail(
    conn: &mut AsyncPgConnection,
    p: &PaymentRow,
    provider_id: Option<&str>,
    code: &str,
) -> Result<PaymentRow, ApiError> {
    let failed = payments::set_status(
        conn,
        p.id,
        PaymentStatus::Failed,
        provider_id,
        Some(code),
        None,
    )
    .await?;
    let event = PaymentFailed {
        payment_id: p.id,
        invoice_id: p.invoice_id,
        order_id: p.order_id,
        client_id: p.client_id,
        amount: price(p, p.amount),
        failure_code: code.to_string(),
    };
    outbox::insert(conn, &Event::PaymentFailed(event)).await?;
    Ok(failed)
}

/// The worker asks the provider where payments pending for a while stand, and books the answer.
pub async fn settle_pending(
    conn: &mut AsyncPgConnection,
    provider: &Provider,
    fee_bps: u32,
) -> anyhow::Result<usize> {
    let mut settled = expire_abandoned(conn).await?;
    for id in payments::stale_pending(conn, Utc::now(), 50).await? {
        let Some(p) = payments::find(conn, id).await? else {
            continue;
        };
        let Some(provider_id) = p.provider_payment_id.as_deref() else {
            continue;
        };
        match provider.retrieve(provider_id).await {
            Ok(outcome) if outcome.status != ChargeStatus::Pending => {
                match book(conn, id, &outcome, fee_bps).await {
                    Ok(_) => settled += 1,
                    Err(e) => {
                        tracing::warn!(payment_id = %id, error = %e, "booking failed; retrying");
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(payment_id = %id, error = %e, "could not ask the provider"),
        }
    }
    Ok(settled)
}

/// How long a payment the provider never acknowledged stays pending, and how long a payment waits
/// for the client's authentication, before it is given up on and its reservation freed. A success
/// the provider reports afterwards is refunded (`succeed`).
const UNSUBMITTED_TTL_MINUTES: i64 = 10;
const ACTION_TTL_HOURS: i64 = 24;

async fn expire_abandoned(conn: &mut AsyncPgConnection) -> anyhow::Result<usize> {
    let now = Utc::now();
    let stale = payments::abandoned(
        conn,
        now - chrono::Duration::minutes(UNSUBMITTED_TTL_MINUTES),
        now - chrono::Duration::hours(ACTION_TTL_HOURS),
    )
    .await?;
    let mut n = 0;
    for (id, status) in stale {
        let code = if status == PaymentStatus::RequiresAction {
            "authentication_abandoned"
        } else {
            "provider_unreachable"
        };
        let outcome = ChargeOutcome {
            provider_id: None,
            status: ChargeStatus::Failed(code.into()),
        };
        if book(conn, id, &outcome, 0).await.is_ok() {
            n += 1;
        }
    }
    Ok(n)
}
