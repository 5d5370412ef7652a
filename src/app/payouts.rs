//! Payouts: a creative moves available balance to their bank account. The money leaves the
//! available balance at once (under its account's row lock, so two requests cannot overdraw it),
//! and the worker sends it and books the outcome.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::ledger::{self, About};
use crate::db::outbox;
use crate::db::payouts::{self, DestinationRow, PayoutRow};
use crate::domain::events::{Event, EventPrice, PayoutPaid};
use crate::domain::ids::{PayoutId, UserId};
use crate::domain::money::Money;
use crate::domain::payments::iban::Iban;
use crate::domain::payments::{self as rules, Account, TransferStatus};
use crate::error::ApiError;

/// Sets where the user is paid; `expected` is the version read (`Some(0)`: none yet).
pub async fn put_destination(
    conn: &mut AsyncPgConnection,
    user: UserId,
    iban: &Iban,
    holder: &str,
    expected: Option<i64>,
) -> Result<DestinationRow, ApiError> {
    match payouts::put_destination(conn, user, iban.as_str(), holder, expected).await? {
        Some(row) => Ok(row),
        None => {
            let current = payouts::destination(conn, user).await?;
            Err(ApiError::PreconditionFailed {
                current_version: current.map_or(0, |d| d.version),
            })
        }
    }
}

/// A payout of `amount` of the user's available balance, once per key.
pub async fn request(
    conn: &mut AsyncPgConnection,
    user: UserId,
    amount: Money,
    key: &str,
) -> Result<PayoutRow, ApiError> {
    let currency = amount.currency().code();
    conn.transaction::<_, ApiError, _>(async |conn| {
        let available =
            ledger::lock_balance(conn, Account::CreativeAvailable(user), currency).await?;
        let destination = payouts::destination(conn, user).await?.ok_or_else(|| {
            ApiError::validation(
                "destination",
                "payout_destination_required",
                "set where you are paid first: PUT /v1/me/payout-destination",
            )
        })?;
        let now = chrono::Utc::now();
        let row = PayoutRow {
            id: PayoutId::new(),
            user_id: user,
            amount: amount.amount(),
            currency: currency.to_string(),
            status: TransferStatus::Pending,
            iban_last4: Iban::last4(&destination.iban),
            failure_code: None,
            attempts: 0,
            next_attempt_at: now,
            idempotency_key: key.to_string(),
            created_at: now,
            updated_at: now,
        };
        let (payout, fresh) = payouts::insert_or_existing(conn, &row).await?;
        if !fresh {
            if payout.amount != row.amount || payout.currency != row.currency {
                return Err(ApiError::validation(
                    "Idempotency-Key",
                    "key_reused",
                    "this key was used for another payout",
                ));
            }
            return Ok(payout);
        }
        rules::check_payout(available, payout.amount)
            .map_err(|r| ApiError::validation(r.field, r.code, r.message))?;
        let postings = rules::transfer(
            Account::CreativeAvailable(user),
            Account::PayoutsInFlight,
            payout.amount,
        );
        let about = About {
            payout: Some(payout.id),
            ..About::default()
        };
        ledger::post(conn, "payout_requested", about, currency, &postings).await?;
        Ok(payout)
    })
    .await
}

/// The worker's turn: sends due payouts and books them. With the sandbox provider, transfers go
/// through the sandbox bank, which accepts every transfer to a valid IBAN. No real bank is wired
/// in yet: with Stripe, payouts stay `pending` (their money safely in payouts in flight) rather
/// than be booked as paid without a transfer.
pub async fn drive(
    conn: &mut AsyncPgConnection,
    provider: &crate::provider::Provider,
) -> anyhow::Result<usize> {
    if !matches!(provider, crate::provider::Provider::Sandbox(_)) {
        return Ok(0);
    }
    let lease = chrono::Duration::seconds(60);
    let claimed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            payouts::claim(conn, lease, 20).await
        })
        .await?;
    let mut done = 0;
    for payout in claimed {
        conn.transaction::<_, anyhow::Error, _>(async |conn| {
            let Some(p) = payouts::lock(conn, payout.id).await? else {
                return Ok(());
            };
            if p.status != TransferStatus::Pending {
                return Ok(());
            }
            let postings = rules::transfer(
                Account::PayoutsInFlight,
                Account::PaidOut(p.user_id),
                p.amount,
            );
            let about = About {
                payout: Some(p.id),
                ..About::default()
            };
            ledger::post(conn, "payout_succeeded", about, &p.currency, &postings).await?;
            payouts::settle(conn, p.id, TransferStatus::Succeeded, None).await?;
            let event = PayoutPaid {
                payout_id: p.id,
                user_id: p.user_id,
                amount: EventPrice {
                    amount: p.amount,
                    currency: p.currency.clone(),
                },
                iban_last4: p.iban_last4.clone(),
            };
            outbox::insert(conn, &Event::PayoutPaid(event)).await?;
            Ok(())
        })
        .await?;
        done += 1;
    }
    Ok(done)
}
