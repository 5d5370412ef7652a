//! Where creatives are paid, and the payouts sent there.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::{payout_destinations, payouts};
use crate::domain::ids::{PayoutId, UserId};
use crate::domain::payments::TransferStatus;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = payout_destinations)]
pub struct DestinationRow {
    pub user_id: UserId,
    pub iban: String,
    pub account_holder: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = payouts)]
pub struct PayoutRow {
    pub id: PayoutId,
    pub user_id: UserId,
    pub amount: i64,
    pub currency: String,
    pub status: TransferStatus,
    pub iban_last4: String,
    pub failure_code: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn destination(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> QueryResult<Option<DestinationRow>> {
    payout_destinations::table
        .find(user)
        .select(DestinationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sets the destination; `expected` guards the version (`Some(0)`: only if none exists yet).
/// `None` when the guard failed.
pub async fn put_destination(
    conn: &mut AsyncPgConnection,
    user: UserId,
    iban: &str,
    holder: &str,
    expected: Option<i64>,
) -> QueryResult<Option<DestinationRow>> {
    use payout_destinations::dsl as d;
    if expected == Some(0) {
        return diesel::insert_into(d::payout_destinations)
            .values((
                d::user_id.eq(user),
                d::iban.eq(iban),
                d::account_holder.eq(holder),
            ))
            .on_conflict_do_nothing()
            .returning(DestinationRow::as_returning())
            .get_result(conn)
            .await
            .optional();
    }
    if let Some(v) = expected {
        return diesel::update(d::payout_destinations.find(user).filter(d::version.eq(v)))
            .set((
                d::iban.eq(iban),
                d::account_holder.eq(holder),
                d::version.eq(d::version + 1),
                d::updated_at.eq(now),
            ))
            .returning(DestinationRow::as_returning())
            .get_result(conn)
            .await
            .optional();
    }
    diesel::insert_into(d::payout_destinations)
        .values((
            d::user_id.eq(user),
            d::iban.eq(iban),
            d::account_holder.eq(holder),
        ))
        .on_conflict(d::user_id)
        .do_update()
        .set((
            d::iban.eq(iban),
            d::account_holder.eq(holder),
            d::version.eq(d::version + 1),
            d::updated_at.eq(now),
        ))
        .returning(DestinationRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Inserts the payout, or finds the one this user's key already made.
pub async fn insert_or_existing(
    conn: &mut AsyncPgConnection,
    row: &PayoutRow,
) -> QueryResult<(PayoutRow, bool)> {
    let inserted = diesel::insert_into(payouts::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(PayoutRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(p) = inserted {
        return Ok((p, true));
    }
    let existing = payouts::table
        .filter(payouts::user_id.eq(row.user_id))
        .filter(payouts::idempotency_key.eq(&row.idempotency_key))
        .select(PayoutRow::as_select())
        .first(conn)
        .await?;
    Ok((existing, false))
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    before: Option<PayoutId>,
    limit: i64,
) -> QueryResult<Vec<PayoutRow>> {
    let mut q = payouts::table
        .filter(payouts::user_id.eq(user))
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(payouts::id.lt(b));
    }
    q.order(payouts::id.desc())
        .limit(limit)
        .select(PayoutRow::as_select())
        .load(conn)
        .await
}

/// Claims due pending payouts for one attempt each.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: chrono::Duration,
    limit: i64,
) -> QueryResult<Vec<PayoutRow>> {
    let due: Vec<PayoutId> = payouts::table
        .filter(payouts::status.eq(TransferStatus::Pending))
        .filter(payouts::next_attempt_at.le(now))
        .order(payouts::next_attempt_at.asc())
        .limit(limit)
        .select(payouts::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await?;
    diesel::update(payouts::table.filter(payouts::id.eq_any(due)))
        .set((
            payouts::attempts.eq(payouts::attempts + 1),
            payouts::next_attempt_at.eq(Utc::now() + lease),
        ))
        .returning(PayoutRow::as_returning())
        .get_results(conn)
        .await
}

pub async fn lock(conn: &mut AsyncPgConnection, id: PayoutId) -> QueryResult<Option<PayoutRow>> {
    payouts::table
        .find(id)
        .select(PayoutRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub async fn settle(
    conn: &mut AsyncPgConnection,
    id: PayoutId,
    status: TransferStatus,
    failure_code: Option<&str>,
) -> QueryResult<PayoutRow> {
    diesel::update(payouts::table.find(id))
        .set((
            payouts::status.eq(status),
            payouts::failure_code.eq(failure_code),
            payouts::updated_at.eq(now),
        ))
        .returning(PayoutRow::as_returning())
        .get_result(conn)
        .await
}
