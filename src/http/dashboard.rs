//! Per-user counters for the dashboard: six indexed queries (counts by status per role, late and
//! due-soon per role), none of which loads an order.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::auth_user::AuthUser;
use super::docs;
use super::error::ApiError;
use super::state::AppState;
use crate::db::{self, orders};

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
    fn from_rows(rows: Vec<(String, i64)>) -> Self {
        let mut c = StatusCounts::default();
        for (status, n) in rows {
            match status.as_str() {
                "new" => c.new = n,
                "in_progress" => c.in_progress = n,
                "delivered" => c.delivered = n,
                "completed" => c.completed = n,
                "declined" => c.declined = n,
                "cancelled" => c.cancelled = n,
                "disputed" => c.disputed = n,
                _ => {}
            }
        }
        c
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "as_client": {"new": 1, "in_progress": 2, "delivered": 0, "completed": 5, "declined": 0, "cancelled": 1, "disputed": 0},
    "as_creative": {"new": 3, "in_progress": 1, "delivered": 1, "completed": 12, "declined": 2, "cancelled": 0, "disputed": 0},
    "late": 1, "due_within_48h": 2}))]
pub struct Dashboard {
    /// Orders the caller placed, by status.
    pub as_client: StatusCounts,
    /// Orders the caller works on, by status.
    pub as_creative: StatusCounts,
    /// Orders (either role) past due and not yet delivered or closed.
    pub late: i64,
    /// Orders (either role) not yet delivered and due within the next 48 hours.
    pub due_within_48h: i64,
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
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let me = caller.id;
    let now = chrono::Utc::now();
    let mut conn = db::connection(&state.pool).await?;
    let as_client = StatusCounts::from_rows(orders::counts_by_status(&mut conn, me, true).await?);
    let as_creative =
        StatusCounts::from_rows(orders::counts_by_status(&mut conn, me, false).await?);
    let soon = now + chrono::Duration::hours(48);
    let mut late = 0;
    let mut due_within_48h = 0;
    for as_client in [true, false] {
        late +=
            orders::count_due_between(&mut conn, me, as_client, &orders::LATE_STATUSES, None, now)
                .await?;
        due_within_48h += orders::count_due_between(
            &mut conn,
            me,
            as_client,
            &["new", "in_progress"],
            Some(now),
            soon,
        )
        .await?;
    }
    Ok(HttpResponse::Ok().json(Dashboard {
        as_client,
        as_creative,
        late,
        due_within_48h,
    }))
}
