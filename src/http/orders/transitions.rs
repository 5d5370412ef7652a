//! Status transitions of an order, and its history.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::{order_ok, render_one, viewer, visible_order, OrderResponse};
use crate::app::moves;
use crate::db::{self, orders};
use crate::domain::ids::OrderId;
use crate::domain::order::{self as machine, ActorRole, OrderStatus};
use crate::domain::text;
use crate::http::auth_user::{refuse_after_session_check, AuthUser, Bearer};
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::{IfMatch, Json, StrictUuid};
use crate::http::pagination;
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(create_transition, list_transitions),
    components(schemas(TransitionRequest, TransitionResponse))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/transitions")
            .route(web::post().to(create_transition))
            .route(web::get().to(list_transitions)),
    );
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "in_progress", "note": "Happy to take this on."}))]
pub struct TransitionRequest {
    /// The status to move to.
    to: OrderStatus,
    /// Required when declining or disputing.
    #[schema(schema_with = schemas::note_or_null)]
    note: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-9000-7c41-9a0e-2f1b7c9d8e04", "from": "new", "to": "in_progress",
    "actor_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "actor_role": "creative",
    "note": "Happy to take this on.", "at": "2026-11-28T15:20:00Z"}))]
pub struct TransitionResponse {
    pub id: Uuid,
    /// Null for the first row (the order being placed).
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// Null when the system moved the order.
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<orders::TransitionRow> for TransitionResponse {
    fn from(r: orders::TransitionRow) -> Self {
        TransitionResponse {
            id: r.id,
            from: r.from_status,
            to: r.to_status,
            actor_id: r.actor_id.map(Into::into),
            actor_role: r.actor_role,
            note: r.note,
            at: r.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Move an order to another status.
///
/// Who may make which move:
/// `new → in_progress` (creative confirms), `new → declined` (creative, with a note),
/// `new → cancelled` (client), `in_progress → delivered` (creative; this records a delivery, as
/// `POST /v1/orders/{id}/deliveries` does, with the note as its message and no files), `delivered → completed`
/// (client accepts; also the system after `AUTO_COMPLETE_AFTER`), `delivered → in_progress` (client
/// requests a revision while some are left), `in_progress|delivered → disputed` (either party, with
/// a note), `in_progress → cancelled` (admin; the client
/// once the order is late by more than `LATE_CANCEL_AFTER`; otherwise through a cancellation request).
/// A dispute ends only through `POST /v1/admin/orders/{id}/dispute-resolution` (409
/// `dispute_resolution_required` here).
/// Concurrent moves are decided by one guarded update: exactly one wins, the others get 409.
#[utoipa::path(post, path = "/v1/orders/{id}/transitions", tag = "orders", operation_id = "createOrderTransition",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The order version last seen, e.g. `\"3\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The order after the move", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
#[tracing::instrument(skip_all, fields(order_id = %id))]
async fn create_transition(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    bearer: Bearer,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: Result<IfMatch, ApiError>,
    body: Result<Json<TransitionRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let (if_match, to, note) = match parse_transition(if_match, body) {
        Ok(parsed) => parsed,
        Err(e) => return Err(refuse_after_session_check(&mut conn, &bearer, e).await),
    };
    // The session check and the order: one statement. Found nothing: the check alone says 401 or
    // 404.
    let found = orders::find_visible_in_session(&mut conn, id, bearer.user, bearer.session).await?;
    let Some(found) = found else {
        bearer.confirm(&mut conn).await?;
        return Err(ApiError::NotFound("order"));
    };
    let caller = bearer.caller(found.caller_is_admin, found.caller_email_verified);
    let clock = state.clock();
    let request = moves::Request {
        caller: viewer(&caller),
        order_id: id,
        to,
        note: note.as_deref(),
        expected_version: if_match.0,
        request_id: crate::http::request_id::of(&req),
        delivery: None,
    };
    let row = moves::make_on(
        &mut conn,
        found.order,
        request,
        &clock,
        &state.settings.orders,
    )
    .await?;
    let order = render_one(&mut conn, row.order, &caller, &clock).await?;
    Ok(order_ok(StatusCode::OK, &order))
}

/// The request's headers and body, refused on their shape alone (before the order is read).
fn parse_transition(
    if_match: Result<IfMatch, ApiError>,
    body: Result<Json<TransitionRequest>, ApiError>,
) -> Result<(IfMatch, OrderStatus, Option<String>), ApiError> {
    let if_match = if_match?;
    let TransitionRequest { to, note } = body?.0;
    let note = note
        .map(|n| text::NOTE.parse(&n))
        .transpose()
        .map_err(|e| crate::http::error::invalid_field("note", e))?
        .filter(|n| !n.is_empty());
    if machine::requires_note(to) && note.is_none() {
        return Err(moves::note_required(to));
    }
    Ok((if_match, to, note))
}

/// The order's status history, oldest first; placing the order is the first row.
#[utoipa::path(get, path = "/v1/orders/{id}/transitions", tag = "orders", operation_id = "listOrderTransitions",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), HistoryQuery),
    responses(
        (status = 200, description = "One page of the history", body = pagination::Page<TransitionResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_transitions(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::decode_opt::<Uuid>(query.cursor.as_deref())?;
    let mut conn = db::connection(&state.pool).await?;
    visible_order(&mut conn, id, &caller).await?;
    let rows = orders::history(&mut conn, id, viewer(&caller), after, limit + 1).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |r| r.id);
    Ok(HttpResponse::Ok().json(pagination::Page {
        data: rows.into_iter().map(TransitionResponse::from).collect(),
        next_cursor,
    }))
}
