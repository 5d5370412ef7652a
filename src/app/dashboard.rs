//! The dashboard's counters for one user: indexed counts only, no order is loaded.

use anyhow::Context;
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

/// The caller's counters, and the check of their session, in one statement; `None` when the
/// session is not live (the caller then says 401).
pub async fn summary_in_session(
    conn: &mut AsyncPgConnection,
    user: UserId,
    session: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Summary>, ApiError> {
    let found =
        orders::dashboard_in_session(conn, user, session, month_start(now), now, now + DUE_SOON)
            .await?;
    let Some(row) = found else { return Ok(None) };
    let by_status = |counts: Vec<i64>| -> Vec<(OrderStatus, i64)> {
        OrderStatus::ALL.iter().copied().zip(counts).collect()
    };
    let money =
        serde_json::from_value(row.money).context("reading the dashboard's money figures")?;
    Ok(Some(Summary {
        as_client: by_status(row.as_client),
        as_creative: by_status(row.as_creative),
        late: row.late,
        due_soon: row.due_soon,
        unread_messages: row.unread_messages,
        unread_notifications: row.unread_notifications,
        median_first_response: row.median_first_response,
        money,
    }))
}
