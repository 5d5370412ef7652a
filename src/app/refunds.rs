//! Refunds: asked for by the creative or an admin while the order is open (or made by a
//! cancellation), their money leaves escrow at once, the worker asks the provider, and the outcome
//! is booked: to the client's card, or back to escrow if the provider refuses.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::ledger::{self, About};
use crate::db::payments::{self, RefundRow};
use crate::db::{orders, outbox};
use crate::domain::events::{Event, EventPrice, RefundSucceeded};
use crate::domain::ids::{PaymentId, RefundId};
use crate::domain::money::Money;
use crate::domain::order::OrderStatus;
use crate::domain::payments::{self as rules, Account, PaymentStatus, TransferStatus};
use crate::error::ApiError;
use crate::provider::{PaymentProvider, Provider, RefundOutcome, RefundStatus};

/// The longest wait between two attempts at a refund the provider did not answer.
const MAX_BACKOFF_SECS: i64 = 3600;

/// The creative (or an admin) refunds part or all of a payment while the order is open.
pub async fn request(
    conn: &mut AsyncPgConnection,
    caller: orders::Viewer,
    id: PaymentId,
    amount: Option<Money>,
) -> Result<RefundRow, ApiError> {
    let known = super::payments::visible(conn, caller, id).await?;
    if known.creative_id != caller.user_id
        && (!caller.is_admin || known.client_id == caller.user_id)
    {
        return Err(ApiError::Forbidden {
            code: "not_the_creative",
            detail: "The creative who was paid (or support) refunds a payment.".into(),
        });
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        let order = orders::lock(conn, known.order_id)
            .await?
            .ok_or(ApiError::NotFound("payment"))?;
        let p = payments::lock(conn, id)
            .await?
            .ok_or(ApiError::NotFound("payment"))?;
        if p.status != PaymentStatus::Succeeded {
            return Err(ApiError::conflict(
                "payment_not_succeeded",
                "Nothing to refund",
                format!(
                    "The payment is `{}`: only a succeeded payment is refunded.",
                    p.status.as_str()
                ),
            ));
        }
        if order.status().is_terminal() {
            return Err(ApiError::conflict(
                "order_closed",
                "Order closed",
                format!("The order is `{}`: its money is settled.", order.status()),
            ));
        }
        let refundable = p.amount - p.amount_refunded;
        if refundable == 0 {
            return Err(ApiError::conflict(
                "nothing_to_refund",
                "Nothing to refund",
                "This payment is refunded in full already.",
            ));
        }
        let amount = match amount {
            Some(m) if m.currency().code() != p.currency => {
                return Err(ApiError::validation(
                    "amount.currency",
                    "currency_mismatch",
                    format!("must be the payment's currency, {}", p.currency),
                ))
            }
            Some(m) => m.amount(),
            None => refundable,
        };
        let held = super::escrow::held(conn, &order).await?;
        rules::check_refund(refundable, held, amount)
            .map_err(|r| ApiError::validation(r.field, r.code, r.message))?;
        let by = Some(caller.user_id);
        let refund = super::escrow::refund_payment(conn, &p, amount, "requested", by).await?;
        if caller.user_id != p.creative_id {
            // Support refunding on the creative's behalf.
            let staff = super::audit::Staff {
                id: caller.user_id,
                request_id: None,
            };
            let after = serde_json::json!({"refund_id": refund.id, "amount": amount, "currency": p.currency});
            let action = crate::domain::audit::Action::PaymentRefunded;
            let target = p.id.as_uuid();
            super::audit::record(conn, &staff, action, target, None::<&()>, Some(&after)).await?;
        }
        Ok(refund)
    })
    .await
}

/// The worker's turn: asks the provider for each due refund and books the answer.
pub async fn drive(conn: &mut AsyncPgConnection, provider: &Provider) -> anyhow::Result<usize> {
    let lease = chrono::Duration::seconds(300);
    let claimed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            payments::claim_refunds(conn, lease, 20).await
        })
        .await?;
    let mut done = 0;
    for refund in claimed {
        let Some(payment) = payments::find(conn, refund.payment_id).await? else {
            continue;
        };
        let Some(charge) = payment.provider_payment_id.as_deref() else {
            continue;
        };
        let outcome = match provider.refund(charge, refund.id, refund.amount).await {
            Ok(outcome) => outcome,
            Err(e) => {
                // Not an answer: the provider may have refunded. Ask again later (with the same
                // idempotency key); never give the money back on a guess.
                let wait = (60i64 << refund.attempts.clamp(0, 6)).min(MAX_BACKOFF_SECS);
                let at = chrono::Utc::now() + chrono::Duration::seconds(wait);
                payments::retry_refund_at(conn, refund.id, at).await?;
                tracing::warn!(refund_id = %refund.id, error = %e, "refund not answered; retrying later");
                continue;
            }
        };
        if let Err(e) = book(conn, refund.id, &outcome).await {
            tracing::warn!(refund_id = %refund.id, error = ?e, "booking a refund failed; retrying");
            continue;
        }
        done += 1;
    }
    Ok(done)
}

/// Books what the provider says of a refund, once.
pub async fn book(
    conn: &mut AsyncPgConnection,
    id: RefundId,
    outcome: &RefundOutcome,
) -> anyhow::Result<()> {
    let Some(known) = payments::lock_refund(conn, id).await? else {
        return Ok(());
    };
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        let order = orders::lock(conn, known.order_id).await?;
        let Some(r) = payments::lock_refund(conn, id).await? else {
            return Ok(());
        };
        if r.status != TransferStatus::Pending {
            return Ok(());
        }
        let provider_id = outcome
            .provider_id
            .as_deref()
            .or(r.provider_refund_id.as_deref());
        let about = About {
            order: Some(r.order_id),
            payment: Some(r.payment_id),
            refund: Some(r.id),
            ..About::default()
        };
        match &outcome.status {
            RefundStatus::Pending => {
                payments::set_refund(conn, id, TransferStatus::Pending, provider_id, None).await?;
            }
            RefundStatus::Succeeded => {
                let p = payments::find(conn, r.payment_id).await?;
                let client = p.as_ref().map(|p| p.client_id);
                let Some(client) = client else { return Ok(()) };
                let postings = rules::transfer(
                    Account::RefundsInFlight,
                    Account::ClientFunding(client),
                    r.amount,
                );
                ledger::post(conn, "refund_succeeded", about, &r.currency, &postings).await?;
                payments::set_refund(conn, id, TransferStatus::Succeeded, provider_id, None)
                    .await?;
                let event = RefundSucceeded {
                    refund_id: r.id,
                    payment_id: r.payment_id,
                    order_id: r.order_id,
                    client_id: client,
                    amount: EventPrice {
                        amount: r.amount,
                        currency: r.currency.clone(),
                    },
                };
                outbox::insert(conn, &Event::RefundSucceeded(event)).await?;
            }
            RefundStatus::Failed(code) => {
                // The money goes back where it came from, unless the order has since completed
                // (its escrow must stay empty): then it waits in refunds in flight for support.
                let completed = order.is_some_and(|o| o.status() == OrderStatus::Completed);
                if !completed {
                    let postings = rules::transfer(
                        Account::RefundsInFlight,
                        Account::Escrow(r.order_id),
                        r.amount,
                    );
                    ledger::post(conn, "refund_failed", about, &r.currency, &postings).await?;
                    payments::add_refunded(conn, r.payment_id, -r.amount).await?;
                }
                tracing::error!(refund_id = %r.id, code = %code, "refund failed at the provider");
                payments::set_refund(conn, id, TransferStatus::Failed, provider_id, Some(code))
                    .await?;
            }
        }
        Ok(())
    })
    .await
}
