//! The double-entry ledger: accounts found or opened on first use, transactions of balanced
//! entries (the database checks the balance at commit and keeps each account's balance), and the
//! checks `createspace ledger check` runs.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::prepared::prepared;
use super::schema::{ledger_accounts, ledger_entries, ledger_transactions};
use crate::domain::ids::{OrderId, PaymentId, PayoutId, RefundId, UserId};
use crate::domain::payments::{Account, Posting};

#[derive(QueryableByName)]
struct AccountIdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The account's id, opening it on first use. (`DO UPDATE`, not `DO NOTHING`: a row another
/// transaction inserted a moment ago is invisible to this statement's snapshot, but an upsert
/// waits for it and returns it.)
pub async fn account_id(
    conn: &mut AsyncPgConnection,
    account: Account,
    currency: &str,
) -> QueryResult<Uuid> {
    let sql = "WITH ins AS ( \
        INSERT INTO ledger_accounts (id, kind, owner_id, currency) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (kind, coalesce(owner_id, '00000000-0000-0000-0000-000000000000'::uuid), currency) \
        DO UPDATE SET kind = EXCLUDED.kind RETURNING id) \
      SELECT id FROM ins";
    let row: AccountIdRow = prepared(sql)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Text, _>(account.kind())
        .bind::<Nullable<SqlUuid>, _>(account.owner())
        .bind::<Text, _>(currency.to_string())
        .get_result(conn)
        .await?;
    Ok(row.id)
}

/// The account's balance, its row locked until the transaction ends (0 for an account not yet
/// opened, which is then opened and locked).
pub async fn lock_balance(
    conn: &mut AsyncPgConnection,
    account: Account,
    currency: &str,
) -> QueryResult<i64> {
    let id = account_id(conn, account, currency).await?;
    ledger_accounts::table
        .find(id)
        .select(ledger_accounts::balance)
        .for_no_key_update()
        .first(conn)
        .await
}

/// The balance now, without a lock (an owned account's running balance; a platform account's
/// sum of entries).
pub async fn balance(
    conn: &mut AsyncPgConnection,
    account: Account,
    currency: &str,
) -> QueryResult<i64> {
    let found = ledger_accounts::table
        .filter(ledger_accounts::kind.eq(account.kind()))
        .filter(ledger_accounts::owner_id.is_not_distinct_from(account.owner()))
        .filter(ledger_accounts::currency.eq(currency))
        .select((ledger_accounts::id, ledger_accounts::balance))
        .first::<(Uuid, i64)>(conn)
        .await
        .optional()?;
    match (found, account.owner()) {
        (None, _) => Ok(0),
        (Some((_, balance)), Some(_)) => Ok(balance),
        (Some((id, _)), None) => {
            let sql = "SELECT coalesce(sum(amount), 0)::int8 AS total FROM ledger_entries \
                WHERE account_id = $1";
            let row: Total = prepared(sql)
                .bind::<SqlUuid, _>(id)
                .get_result(conn)
                .await?;
            Ok(row.total)
        }
    }
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// What a ledger transaction is about.
#[derive(Clone, Copy, Debug, Default)]
pub struct About {
    pub order: Option<OrderId>,
    pub payment: Option<PaymentId>,
    pub refund: Option<RefundId>,
    pub payout: Option<PayoutId>,
}

/// Writes one transaction of `postings` in `currency`. The caller's transaction must commit for it
/// to stand; the database refuses it at commit if it does not balance.
pub async fn post(
    conn: &mut AsyncPgConnection,
    kind: &str,
    about: About,
    currency: &str,
    postings: &[Posting],
) -> QueryResult<()> {
    let postings: Vec<&Posting> = postings.iter().filter(|p| p.amount != 0).collect();
    if postings.is_empty() {
        return Ok(());
    }
    let tx = Uuid::now_v7();
    diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::id.eq(tx),
            ledger_transactions::kind.eq(kind),
            ledger_transactions::order_id.eq(about.order),
            ledger_transactions::payment_id.eq(about.payment.map(|p| p.as_uuid())),
            ledger_transactions::refund_id.eq(about.refund.map(|r| r.as_uuid())),
            ledger_transactions::payout_id.eq(about.payout.map(|p| p.as_uuid())),
        ))
        .execute(conn)
        .await?;
    for p in postings {
        let account = account_id(conn, p.account, currency).await?;
        diesel::insert_into(ledger_entries::table)
            .values((
                ledger_entries::transaction_id.eq(tx),
                ledger_entries::account_id.eq(account),
                ledger_entries::amount.eq(p.amount),
                ledger_entries::currency.eq(currency),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// One currency's figures for a user.
#[derive(Clone, Debug, Default, PartialEq, Eq, QueryableByName, serde::Deserialize)]
pub struct Figures {
    #[diesel(sql_type = Text)]
    pub currency: String,
    /// In escrow on orders where the user is the creative.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = BigInt)]
    pub available: i64,
    #[diesel(sql_type = BigInt)]
    pub paid_out_since: i64,
    /// In escrow on orders where the user is the client.
    #[diesel(sql_type = BigInt)]
    pub in_escrow_as_client: i64,
    /// What the user paid in since the given moment (refunds not taken off).
    #[diesel(sql_type = BigInt)]
    pub spent_since: i64,
}

/// A user's figures per currency (`$1` the user, `$2` the start of "this month"), as [`Figures`]
/// columns: a subquery of the dashboard's one statement as well.
pub(crate) const FIGURES: &str = "SELECT currency, sum(pending)::int8 AS pending, \
        sum(available)::int8 AS available, sum(paid_out_since)::int8 AS paid_out_since, \
        sum(in_escrow)::int8 AS in_escrow_as_client, sum(spent_since)::int8 AS spent_since \
      FROM ( \
        SELECT a.currency, 0 AS pending, \
          CASE WHEN a.kind = 'creative_available' THEN a.balance ELSE 0 END AS available, \
          CASE WHEN a.kind = 'paid_out' THEN (SELECT coalesce(sum(e.amount), 0) FROM ledger_entries e \
            WHERE e.account_id = a.id AND e.created_at >= $2) ELSE 0 END AS paid_out_since, \
          0 AS in_escrow, \
          CASE WHEN a.kind = 'client_funding' THEN (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e \
            WHERE e.account_id = a.id AND e.created_at >= $2 AND e.amount < 0) ELSE 0 END AS spent_since \
        FROM ledger_accounts a \
        WHERE a.owner_id = $1 AND a.kind IN ('creative_available', 'paid_out', 'client_funding') \
        UNION ALL \
        SELECT t.currency, CASE WHEN t.role = 'creative' THEN t.held ELSE 0 END, 0, 0, \
          CASE WHEN t.role = 'client' THEN t.held ELSE 0 END, 0 \
        FROM escrow_tallies t WHERE t.user_id = $1) mine \
      GROUP BY currency";

/// A user's earnings and spending per currency, from the ledger, in one statement.
pub async fn figures(
    conn: &mut AsyncPgConnection,
    user: UserId,
    since: DateTime<Utc>,
) -> QueryResult<Vec<Figures>> {
    prepared(format!("{FIGURES} ORDER BY currency"))
        .bind::<SqlUuid, _>(user)
        .bind::<diesel::sql_types::Timestamptz, _>(since)
        .load(conn)
        .await
}

#[derive(QueryableByName)]
struct Problem {
    #[diesel(sql_type = Text)]
    problem: String,
}

/// Every invariant of the ledger, checked: each transaction balances per currency, each account's
/// balance is the sum of its entries, nothing the platform holds for someone is negative, the
/// escrow of a completed order is empty, and the escrow the dashboard reads per user (kept by
/// triggers) is what escrow holds. One line per offence, naming the ids.
pub async fn check(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    let sql = "SELECT 'transaction ' || transaction_id || ' does not balance in ' || currency || \
          ' (' || sum(amount) || ')' AS problem \
        FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0 \
      UNION ALL \
      SELECT 'account ' || a.id || ' (' || a.kind || ') has balance ' || a.balance || \
          ' but its entries sum to ' || coalesce(s.total, 0) \
        FROM ledger_accounts a \
        LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_entries GROUP BY account_id) s \
          ON s.account_id = a.id \
        WHERE a.owner_id IS NOT NULL AND a.balance <> coalesce(s.total, 0) \
      UNION ALL \
      SELECT 'account ' || a.id || ' (' || a.kind || ') is negative: ' || sum(e.amount) \
        FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id \
        WHERE a.kind NOT IN ('client_funding', 'paid_out') GROUP BY a.id, a.kind HAVING sum(e.amount) < 0 \
      UNION ALL \
      SELECT 'refunds in flight in ' || a.currency || ' hold ' || coalesce(sum(e.amount), 0) || \
          ' but pending refunds come to ' || coalesce((SELECT sum(amount) FROM refunds r \
            WHERE r.status = 'pending' AND r.currency = a.currency), 0) \
        FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
        WHERE a.kind = 'refunds_in_flight' GROUP BY a.currency \
        HAVING coalesce(sum(e.amount), 0) <> coalesce((SELECT sum(amount) FROM refunds r \
            WHERE r.status = 'pending' AND r.currency = a.currency), 0) \
      UNION ALL \
      SELECT 'payouts in flight in ' || a.currency || ' hold ' || coalesce(sum(e.amount), 0) || \
          ' but pending payouts come to ' || coalesce((SELECT sum(amount) FROM payouts p \
            WHERE p.status = 'pending' AND p.currency = a.currency), 0) \
        FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
        WHERE a.kind = 'payouts_in_flight' GROUP BY a.currency \
        HAVING coalesce(sum(e.amount), 0) <> coalesce((SELECT sum(amount) FROM payouts p \
            WHERE p.status = 'pending' AND p.currency = a.currency), 0) \
      UNION ALL \
      SELECT 'payment ' || p.id || ' has ' || p.amount_refunded || ' refunded but its refunds come to ' || \
          coalesce(sum(r.amount) FILTER (WHERE r.status <> 'failed'), 0) \
        FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id GROUP BY p.id \
        HAVING p.amount_refunded <> coalesce(sum(r.amount) FILTER (WHERE r.status <> 'failed'), 0) \
      UNION ALL \
      SELECT 'payment ' || p.id || ' succeeded ' || count(t.id) || ' times in the ledger' \
        FROM payments p LEFT JOIN ledger_transactions t ON t.payment_id = p.id AND t.kind = 'payment_succeeded' \
        WHERE p.status = 'succeeded' GROUP BY p.id HAVING count(t.id) <> 1 \
      UNION ALL \
      SELECT 'escrow of completed order ' || o.id || ' holds ' || a.balance || ' ' || a.currency \
        FROM ledger_accounts a JOIN orders o ON o.id = a.owner_id \
        WHERE a.kind = 'escrow' AND o.status = 'completed' AND a.balance <> 0 \
      UNION ALL \
      SELECT 'escrow tally of ' || coalesce(k.user_id, x.user_id) || ' as ' || \
          coalesce(k.role, x.role) || ' in ' || coalesce(k.currency, x.currency) || ' is ' || \
          coalesce(k.held, 0) || ' but escrow holds ' || coalesce(x.held, 0) \
        FROM escrow_tallies k FULL JOIN escrow_tallies_expected() x \
          ON x.user_id = k.user_id AND x.role = k.role AND x.currency = k.currency \
        WHERE coalesce(k.held, 0) <> coalesce(x.held, 0) \
      UNION ALL \
      SELECT 'entry ' || e.id || ' is in ' || e.currency || ' on an account in ' || a.currency \
        FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
        WHERE e.currency <> a.currency";
    let rows: Vec<Problem> = diesel::sql_query(sql).load(conn).await?;
    Ok(rows.into_iter().map(|r| r.problem).collect())
}
