//! Cancellation by consent: one party asks, the other accepts or rejects; unanswered, the system
//! accepts it after `CANCELLATION_AUTO_ACCEPT_AFTER`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::{viewer, visible_order};
use crate::app;
use crate::db::{self, orders};
use crate::domain::ids::OrderId;
use crate::domain::order::{ActorRole, CancellationStatus};
use crate::domain::text;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::{Json, StrictUuid};
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        create_cancellation_request,
        get_cancellation_request,
        respond_to_cancellation_request
    ),
    components(schemas(
        CancellationRequestBody,
        CancellationDecision,
        Decision,
        CancellationResponse
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/cancellation-request")
            .route(web::post().to(create_cancellation_request))
            .route(web::get().to(get_cancellation_request)),
    )
    .service(
        web::resource("/orders/{id}/cancellation-request/response")
            .route(web::post().to(respond_to_cancellation_request)),
    );
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "My brief changed; I no longer need the cover."}))]
pub struct CancellationRequestBody {
    #[schema(schema_with = schemas::reason)]
    reason: String,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Reject,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "accept"}))]
pub struct CancellationDecision {
    decision: Decision,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-a000-7c41-9a0e-2f1b7c9d8e05", "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03",
    "requested_by": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "requester_role": "client",
    "reason": "My brief changed.", "status": "pending", "auto_accept_at": "2026-11-30T15:20:00Z",
    "resolved_by": null, "resolved_at": null, "created_at": "2026-11-28T15:20:00Z"}))]
pub struct CancellationResponse {
    pub id: Uuid,
    pub order_id: Uuid,
    pub requested_by: Uuid,
    pub requester_role: ActorRole,
    pub reason: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: CancellationStatus,
    /// When the system accepts it if the other party has not answered.
    pub auto_accept_at: DateTime<Utc>,
    /// Null while pending, or when the system resolved it.
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<orders::CancellationRow> for CancellationResponse {
    fn from(r: orders::CancellationRow) -> Self {
        CancellationResponse {
            id: r.id,
            order_id: r.order_id.into(),
            requested_by: r.requested_by.into(),
            requester_role: r.requester_role,
            reason: r.reason,
            status: r.status,
            auto_accept_at: r.auto_accept_at,
            resolved_by: r.resolved_by.map(Into::into),
            resolved_at: r.resolved_at,
            created_at: r.created_at,
        }
    }
}

/// Ask the other party to agree to cancel an order that is `in_progress` or `delivered`.
///
/// The other party accepts or rejects it; unanswered, it is accepted after
/// `CANCELLATION_AUTO_ACCEPT_AFTER` (48 h). On a `delivered` order silence never cancels the work:
/// the request waits at least until the order would have completed by itself (which it then does
/// not), and unanswered the order goes to `disputed` for support to decide.
///
/// After the other party rejects a request, its maker waits `CANCELLATION_REQUEST_COOLDOWN` (24 h)
/// before asking again (409 `cancellation_request_cooldown`), and asks at most 3 times per order
/// (409 `cancellation_requests_exhausted`; a dispute is the way on). Each user may open
/// `CANCELLATION_REQUESTS_PER_USER_PER_HOUR` (10) requests an hour; beyond that, 429 with
/// `Retry-After`.
#[utoipa::path(post, path = "/v1/orders/{id}/cancellation-request", tag = "orders",
    operation_id = "createCancellationRequest",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = CancellationRequestBody,
    responses(
        (status = 201, description = "Request opened; the other party is notified", body = CancellationResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_cancellation_request(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    body: Json<CancellationRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let reason = text::REASON
        .parse(&body.0.reason)
        .map_err(|e| crate::http::error::invalid_field("reason", e))?;
    state
        .creation_limits
        .cancellation_requests
        .check(&caller.id)?;
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let row = app::cancellations::open(
        &mut conn,
        viewer(&caller),
        id,
        &reason,
        &clock,
        &state.settings.orders,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/orders/{id}/cancellation-request"),
        ))
        .json(CancellationResponse::from(row)))
}

/// The order's latest cancellation request, whatever its state.
#[utoipa::path(get, path = "/v1/orders/{id}/cancellation-request", tag = "orders",
    operation_id = "getCancellationRequest",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The latest request", body = CancellationResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_cancellation_request(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    visible_order(&mut conn, id, &caller).await?;
    let row = orders::latest_cancellation(&mut conn, id, viewer(&caller))
        .await?
        .ok_or(ApiError::NotFound("cancellation request"))?;
    Ok(HttpResponse::Ok().json(CancellationResponse::from(row)))
}

/// Accept or reject the other party's pending cancellation request. Accepting cancels the order.
#[utoipa::path(post, path = "/v1/orders/{id}/cancellation-request/response", tag = "orders",
    operation_id = "respondToCancellationRequest",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = CancellationDecision,
    responses(
        (status = 200, description = "The request, resolved", body = CancellationResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn respond_to_cancellation_request(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    body: Json<CancellationDecision>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let accept = body.0.decision == Decision::Accept;
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let resolved = app::cancellations::respond(
        &mut conn,
        viewer(&caller),
        id,
        accept,
        &clock,
        &state.settings.orders,
    )
    .await?;
    Ok(HttpResponse::Ok().json(CancellationResponse::from(resolved)))
}
