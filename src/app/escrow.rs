//! The money of an order: a payment that succeeds goes into the order's escrow (or, once the order
//! is completed, straight to the creative less the fee); completion releases escrow to the
//! creative less the platform fee; cancellation refunds it through the provider. Every move here
//! runs inside the caller's transaction, under the order's row lock.

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::db::ledger::{self, About};
use crate::db::orders::OrderRow;
use crate::db::payments::{self, PaymentRow, RefundRow};
use crate::domain::billing::terms::Schedule;
use crate::domain::ids::{RefundId, UserId};
use crate::domain::order::OrderStatus;
use crate::domain::payments::{self as money, Account, TransferStatus};

/// What escrow holds for the order now.
pub async fn held(conn: &mut AsyncPgConnection, order: &OrderRow) -> QueryResult<i64> {
    ledger::balance(conn, Account::Escrow(order.id), &order.price_currency).await
}

/// Books a payment that just succeeded.
pub async fn book_payment(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    payment: &PaymentRow,
    fee_bps: u32,
) -> QueryResult<()> {
    let about = About {
        order: Some(order.id),
        payment: Some(payment.id),
        ..About::default()
    };
    let from = Account::ClientFunding(payment.client_id);
    if order.status() == OrderStatus::Completed {
        let postings = money::release(from, order.creative_id, payment.amount, fee_bps);
        return ledger::post(
            conn,
            "payment_succeeded",
            about,
            &payment.currency,
            &postings,
        )
        .await;
    }
    let postings = money::transfer(from, Account::Escrow(order.id), payment.amount);
    ledger::post(
        conn,
        "payment_succeeded",
        about,
        &payment.currency,
        &postings,
    )
    .await?;
    if order.awaiting_payment {
        refresh_awaiting_payment(conn, order).await?;
    }
    Ok(())
}

/// Books a succeeded payment into the order's escrow whatever the order's status (money that is
/// about to be refunded from there).
pub async fn book_into_escrow(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    payment: &PaymentRow,
) -> QueryResult<()> {
    let about = About {
        order: Some(order.id),
        payment: Some(payment.id),
        ..About::default()
    };
    let postings = money::transfer(
        Account::ClientFunding(payment.client_id),
        Account::Escrow(order.id),
        payment.amount,
    );
    ledger::post(
        conn,
        "payment_succeeded",
        about,
        &payment.currency,
        &postings,
    )
    .await
}

/// Whether the order still waits on an upfront payment: upfront terms through the platform were
/// accepted while it was new, and escrow holds less than their amount.
pub async fn refresh_awaiting_payment(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
) -> QueryResult<bool> {
    let terms = crate::db::billing::accepted(conn, order.id).await?;
    let needed = terms.filter(|t| {
        t.schedule == Schedule::Upfront
            && t.method.through_platform()
            && order.status() == OrderStatus::New
    });
    let awaiting = match needed {
        Some(t) => held(conn, order).await? < t.amount,
        None => false,
    };
    if awaiting != order.awaiting_payment {
        crate::db::orders::set_awaiting_payment(conn, order.id, awaiting).await?;
    }
    Ok(awaiting)
}

/// What a move does to the order's money: completion releases escrow to the creative less the
/// fee; cancellation refunds it to the client.
pub async fn on_move(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    to: OrderStatus,
    fee_bps: u32,
) -> QueryResult<()> {
    match to {
        OrderStatus::Completed => release_all(conn, order, fee_bps).await,
        OrderStatus::Cancelled | OrderStatus::Declined => {
            let all = held(conn, order).await?;
            refund(conn, order, all, "order_cancelled", None)
                .await
                .map(|_| ())
        }
        _ => Ok(()),
    }
}

/// Releases all escrow holds to the creative, less the fee.
pub async fn release_all(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    fee_bps: u32,
) -> QueryResult<()> {
    let amount = held(conn, order).await?;
    if amount <= 0 {
        return Ok(());
    }
    let postings = money::release(
        Account::Escrow(order.id),
        order.creative_id,
        amount,
        fee_bps,
    );
    let about = About {
        order: Some(order.id),
        ..About::default()
    };
    ledger::post(
        conn,
        "escrow_released",
        about,
        &order.price_currency,
        &postings,
    )
    .await
}

/// Returns `amount` of escrow to the client through the provider: refunds of the order's payments,
/// newest first, each taking what is left of its payment. The money leaves escrow now (into
/// refunds in flight), so nothing else can release or refund it twice; the worker asks the
/// provider and books the outcome.
pub async fn refund(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    amount: i64,
    reason: &str,
    by: Option<UserId>,
) -> QueryResult<Vec<RefundRow>> {
    let mut left = amount;
    let mut made = Vec::new();
    for payment in payments::refundable_of_order(conn, order.id).await? {
        if left <= 0 {
            break;
        }
        let part = left.min(payment.amount - payment.amount_refunded);
        made.push(refund_payment(conn, &payment, part, reason, by).await?);
        left -= part;
    }
    Ok(made)
}

/// One refund of one payment (the payment and its order locked by the caller).
pub async fn refund_payment(
    conn: &mut AsyncPgConnection,
    payment: &PaymentRow,
    amount: i64,
    reason: &str,
    by: Option<UserId>,
) -> QueryResult<RefundRow> {
    let now = chrono::Utc::now();
    let row = RefundRow {
        id: RefundId::new(),
        payment_id: payment.id,
        order_id: payment.order_id,
        amount,
        currency: payment.currency.clone(),
        status: TransferStatus::Pending,
        reason: reason.to_string(),
        requested_by: by,
        provider_refund_id: None,
        failure_code: None,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
    };
    payments::insert_refund(conn, &row).await?;
    payments::add_refunded(conn, payment.id, amount).await?;
    let postings = money::transfer(
        Account::Escrow(payment.order_id),
        Account::RefundsInFlight,
        amount,
    );
    let about = About {
        order: Some(payment.order_id),
        payment: Some(payment.id),
        refund: Some(row.id),
        ..About::default()
    };
    ledger::post(
        conn,
        "refund_requested",
        about,
        &payment.currency,
        &postings,
    )
    .await?;
    Ok(row)
}
