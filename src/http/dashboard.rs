//! Per-user counters for the dashboard, read with the caller's session check in one statement.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::auth_user::Bearer;
use super::docs;
use super::error::ApiError;
use super::state::AppState;
use crate::app;
use crate::db;
use crate::domain::order::OrderStatus;

#[derive(OpenApi)]
#[openapi(paths(get_dashboard), components(schemas(Dashboard, StatusCounts)))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(get_dashboard)));
}

/// Orders per status.
#[derive(Default, Serialize, Deserialize, ToSchema)]
pub struct StatusCounts {
    pub new: i64,
    pub in_progress: i64,
    pub delivered: i64,
    pub completed: i64,
    pub declined: i64,
    pub cancelled: i64,
    pub disputed: i64,
}

impl StatusCounts {
    fn from_rows(rows: Vec<(OrderStatus, i64)>) -> Self {
        let mut c = StatusCounts::default();
        for (status, n) in rows {
            *match status {
                OrderStatus::New => &mut c.new,
                OrderStatus::InProgress => &mut c.in_progress,
                OrderStatus::Delivered => &mut c.delivered,
                OrderStatus::Completed => &mut c.completed,
                OrderStatus::Declined => &mut c.declined,
                OrderStatus::Cancelled => &mut c.cancelled,
                OrderStatus::Disputed => &mut c.disputed,
            } = n;
        }
        c
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "as_client": {"new": 1, "in_progress": 2, "delivered": 0, "completed": 5, "declined": 0, "cancelled": 1, "disputed": 0},
    "as_creative": {"new": 3, "in_progress": 1, "delivered": 1, "completed": 12, "declined": 2, "cancelled": 0, "disputed": 0},
    "late": 1, "due_within_48h": 2, "unread_messages": 3, "unread_notifications": 4,
    "median_first_response_seconds": 5400,
    "money": {"earnings": [{"pending": {"amount": 15000, "currency": "EUR"},
        "available": {"amount": 13500, "currency": "EUR"}, "paid_out_this_month": {"amount": 0, "currency": "EUR"}}],
        "spending": []}}))]
pub struct Dashboard {
    /// Orders the caller placed, by status.
    pub as_client: StatusCounts,
    /// Orders the caller works on, by status.
    pub as_creative: StatusCounts,
    /// Orders (either role) past due and not yet delivered or closed.
    pub late: i64,
    /// Orders (either role) not yet delivered and due within the next 48 hours.
    pub due_within_48h: i64,
    /// Messages in the caller's orders they have not read (their own never count).
    pub unread_messages: i64,
    /// Notifications in the caller's in-app inbox not yet read.
    pub unread_notifications: i64,
    /// As a creative: the median time, in seconds, from an order's placement to the caller's first
    /// answer (a message, a confirmation or a decline), over orders placed in the last 30 days that
    /// have one; `null` when there is none.
    pub median_first_response_seconds: Option<i64>,
    /// As a creative, per currency: in escrow on your open orders, available to pay out, paid out
    /// this month; as a client: in escrow and paid this month. From the ledger.
    pub money: crate::http::payments::dto::BalanceResponse,
}

/// The caller's counters.
#[utoipa::path(get, path = "/v1/dashboard", tag = "dashboard", operation_id = "getDashboard",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's counters", body = Dashboard),
        (status = 401, response = docs::Unauthorized),
    ))]
async fn get_dashboard(
    state: web::Data<AppState>,
    bearer: Bearer,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    // The session check and every counter: one statement. Found nothing: the session is not live,
    // which the check alone then reports as 401.
    let (user, session) = (bearer.user, bearer.session);
    let now = chrono::Utc::now();
    let mut found = app::dashboard::summary_in_session(&mut conn, user, session, now).await?;
    if found.is_none() {
        bearer.confirm(&mut conn).await?;
        // Live again by now (an account re-enabled in between): read once more.
        found = app::dashboard::summary_in_session(&mut conn, user, session, now).await?;
    }
    let summary = found.ok_or(ApiError::Unauthorized(
        "The access token is invalid or expired.",
    ))?;
    Ok(HttpResponse::Ok().json(Dashboard {
        as_client: StatusCounts::from_rows(summary.as_client),
        as_creative: StatusCounts::from_rows(summary.as_creative),
        late: summary.late,
        due_within_48h: summary.due_soon,
        unread_messages: summary.unread_messages,
        unread_notifications: summary.unread_notifications,
        median_first_response_seconds: summary.median_first_response,
        money: summary.money.into(),
    }))
}
