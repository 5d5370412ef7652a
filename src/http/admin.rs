//! The support team's tools, under `/v1/admin` (admins only; anyone else gets 404, as for a
//! resource they cannot see). For now: notifications the worker gave up on.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::auth_user::AuthUser;
use super::docs;
use super::error::ApiError;
use super::extract::StrictUuid;
use super::pagination;
use super::state::AppState;
use crate::db::{self, notifications::DeliveryRow};
use crate::domain::notify::Channel;

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

fn admin(caller: &AuthUser) -> Result<(), ApiError> {
    if caller.is_admin {
        Ok(())
    } else {
        Err(ApiError::NotFound("route"))
    }
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
        (status = 404, response = docs::NotFound),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_dead_letters(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<DeadLetterQuery>,
) -> Result<HttpResponse, ApiError> {
    admin(&caller)?;
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
        (status = 404, response = docs::NotFound),
        (status = 409, description = "The delivery is not dead (delivered, or already queued again)",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/not-dead", "title": "Not a dead letter", "status": 409,
                "detail": "This delivery is not dead: it was delivered or is queued already.", "code": "not_dead"})),
    ))]
async fn retry_dead_letter(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid>,
) -> Result<HttpResponse, ApiError> {
    admin(&caller)?;
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    match db::notifications::retry_dead(&mut conn, id).await? {
        Some(row) => {
            tracing::info!(delivery_id = %id, admin_id = %caller.id, "dead letter queued again");
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
