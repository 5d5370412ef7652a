//! The dashboard's counters for one user: indexed counts only, no order is loaded.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::db::orders;
use crate::domain::ids::UserId;
use crate::domain::order::OrderStatus;
use crate::error::ApiError;

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
}

/// One statement: every counter a subquery of it, each a range scan of one role's index.
pub async fn summary(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Summary, ApiError> {
    let row = orders::dashboard(
        conn,
        user,
        &OrderStatus::CAN_BE_LATE,
        &OrderStatus::WORK_PENDING,
        now,
        now + DUE_SOON,
    )
    .await?;
    let by_status = |counts: &serde_json::Value| -> Vec<(OrderStatus, i64)> {
        counts
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(status, n)| Some((OrderStatus::parse(status)?, n.as_i64()?)))
            .collect()
    };
    Ok(Summary {
        as_client: by_status(&row.as_client),
        as_creative: by_status(&row.as_creative),
        late: row.late,
        due_soon: row.due_soon,
        unread_messages: row.unread_messages,
        unread_notifications: row.unread_notifications,
        median_first_response: row.median_first_response,
    })
}
