//! Notifications the worker gave up on, and sending them again.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::StaffCaller;
use crate::db::{self, notifications::DeliveryRow};
use crate::domain::audit::Action;
use crate::domain::notify::Channel;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::StrictUuid;
use crate::http::pagination;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(list_dead_letters, retry_dead_letter),
    components(schemas(DeadLetter))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/dead-letters").route(web::get().to(list_dead_letters)))
        .service(
            web::resource("/admin/dead-letters/{id}/retry")
                .route(web::post().to(retry_dead_letter)),
        );
}

/// A delivery that failed its last attempt.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "01938a8e-2b1c-7f00-8000-0000000000d1", "event_id": "01938a8e-2b1c-7f00-8000-000000000001",
    "event_type": "order.placed", "recipient_id": "01938a8e-2b1c-7f00-8000-000000000003",
    "channel": "email", "status": "dead", "attempts": 8,
    "last_error": "SMTP: Connection refused (os error 111)", "next_attempt_at": "2026-11-29T11:00:00Z",
    "created_at": "2026-11-29T10:00:00Z"}))]
pub struct DeadLetter {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub recipient_id: Uuid,
    pub channel: Channel,
    /// `dead`, or `pending` once retried.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<(DeliveryRow, String)> for DeadLetter {
    fn from((r, event_type): (DeliveryRow, String)) -> Self {
        DeadLetter {
            id: r.id,
            event_id: r.event_id,
            event_type,
            recipient_id: r.recipient_id.as_uuid(),
            channel: r.channel,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Notifications the worker gave up on, newest first (admins only).
#[utoipa::path(get, path = "/v1/admin/dead-letters", tag = "admin", operation_id = "listDeadLetters",
    security(("bearer" = [])),
    params(DeadLetterQuery),
    responses(
        (status = 200, description = "One page of dead deliveries", body = pagination::Page<DeadLetter>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_dead_letters(
    state: web::Data<AppState>,
    _staff: StaffCaller,
    query: web::Query<DeadLetterQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let before = pagination::decode_opt::<Uuid>(query.cursor.as_deref())?;
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::notifications::dead_letters(&mut conn, before, limit + 1).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |(r, _)| r.id);
    Ok(HttpResponse::Ok().json(pagination::Page {
        data: rows.into_iter().map(DeadLetter::from).collect(),
        next_cursor,
    }))
}

/// Try a dead delivery again, with a fresh set of attempts (admins only).
#[utoipa::path(post, path = "/v1/admin/dead-letters/{id}/retry", tag = "admin", operation_id = "retryDeadLetter",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Dead delivery id")),
    responses(
        (status = 200, description = "Queued again; the worker sends it shortly", body = DeadLetter),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, description = "The delivery is not dead (delivered, or already queued again)",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/not-dead", "title": "Not a dead letter", "status": 409,
                "detail": "This delivery is not dead: it was delivered or is queued already.", "code": "not_dead"})),
    ))]
async fn retry_dead_letter(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let retried = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let row = db::notifications::retry_dead(conn, id).await?;
            if let Some((row, _)) = &row {
                let after = serde_json::json!({"status": row.status, "attempts": row.attempts});
                let before = serde_json::json!({"status": "dead"});
                crate::app::audit::record(
                    conn,
                    &staff.0,
                    Action::DeliveryRetried,
                    id,
                    Some(&before),
                    Some(&after),
                )
                .await?;
            }
            Ok(row)
        })
        .await?;
    match retried {
        Some(row) => {
            tracing::info!(delivery_id = %id, admin_id = %staff.0.id, "dead letter queued again");
            state.signal.poke();
            Ok(HttpResponse::Ok().json(DeadLetter::from(row)))
        }
        None if db::notifications::delivery_exists(&mut conn, id).await? => {
            Err(ApiError::conflict(
                "not_dead",
                "Not a dead letter",
                "This delivery is not dead: it was delivered or is queued already.",
            ))
        }
        None => Err(ApiError::NotFound("dead letter")),
    }
}
