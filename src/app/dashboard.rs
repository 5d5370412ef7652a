//! The dashboard's counters for one user: indexed counts only, no order is loaded.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::db::orders;
use crate::domain::ids::UserId;
use crate::domain::order::OrderStatus;
use crate::error::ApiError;

/// The first instant of `now`'s month, UTC: "this month" of earnings and spending.
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

/// How far ahead "due soon" looks.
pub const DUE_SOON: chrono::Duration = chrono::Duration::hours(48);

pub struct Summary {
    pub as_client: Vec<(OrderStatus, i64)>,
    pub as_creative: Vec<(OrderStatus, i64)>,
    /// Either role: past due and not handed over (`OrderStatus::CAN_BE_LATE`).
    pub late: i64,
    /// Either role: work pending and due within [`DUE_SOON`].
    pub due_soon: i64,
    /// Messages in the user's orders they have not read (their own never count).
    pub unread_messages: i64,
    /// In-app notifications not yet read.
    pub unread_notifications: i64,
    /// As a creative: the median seconds from placement to first answer, last 30 days.
    pub median_first_response: Option<i64>,
    /// Earnings and spending per currency, from the ledger (this month since `month_start`).
    pub money: Vec<crate::db::ledger::Figures>,
}

/// Ten queries (the last, earnings and spending from the ledger); the six counters each a range scan of one role's index (nobody is both parties of one order, so the
/// two roles' counts add up).
pub async fn summary(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Summary, ApiError> {
    let as_client = orders::counts_by_status(conn, user, true).await?;
    let as_creative = orders::counts_by_status(conn, user, false).await?;
    let (mut late, mut due_soon) = (0, 0);
    for as_client in [true, false] {
        late +=
            orders::count_due_between(conn, user, as_client, &OrderStatus::CAN_BE_LATE, None, now)
                .await?;
        due_soon += orders::count_due_between(
            conn,
            user,
            as_client,
            &OrderStatus::WORK_PENDING,
            Some(now),
            now + DUE_SOON,
        )
        .await?;
    }
    Ok(Summary {
        as_client,
        as_creative,
        late,
        due_soon,
        unread_messages: crate::db::messages::unread_total(conn, user).await?,
        unread_notifications: crate::db::notifications::unread_count(conn, user).await?,
        median_first_response: orders::median_first_response(conn, user).await?,
        money: crate::db::ledger::figures(conn, user, month_start(now)).await?,
    })
}
