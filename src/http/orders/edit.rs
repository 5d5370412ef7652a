//! Reading one order and editing a new one.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::*;
use crate::app;
use crate::db::{self, orders};
use crate::domain::ids::OrderId;
use crate::http::auth_user::{AuthUser, Bearer};
use crate::http::docs;
use crate::http::error::{ApiError, FieldError, FieldErrors};
use crate::http::extract::{IfMatch, Json, StrictUuid};
use crate::http::state::AppState;
use app::orders::{parse_due_at, parse_requirements};

/// One order, for its client, its creative or an admin.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", operation_id = "getOrder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
pub(super) async fn get_order(
    state: web::Data<AppState>,
    bearer: Bearer,
    id: web::Path<StrictUuid<OrderId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    // The session check, the order, its parties' names and the caller's unread count: one
    // statement. Found nothing: the session check alone says 401 or 404.
    let found = crate::db::orders::find_view_in_session(
        &mut conn,
        id.into_inner().0,
        bearer.user,
        bearer.session,
    )
    .await?;
    let Some(found) = found else {
        bearer.confirm(&mut conn).await?;
        return Err(ApiError::NotFound("order"));
    };
    let caller = bearer.caller(found.caller_is_admin, found.caller_email_verified);
    let order = render_view(found.view, &caller, &state.clock());
    Ok(order_ok(StatusCode::OK, &order))
}

/// Edit the requirements or due date (the client, while the order is `new`).
///
/// The deadline of a custom order is part of the client's offer, which the creative has not yet
/// accepted while the order is `new`: the client may change it (to a time in the future), and the
/// creative confirms the terms as they then stand (an `If-Match` on the confirmation turns a change
/// made in between into a 412). The deadline of a service order comes from the service's delivery
/// time, the creative's own offer: changing it is a 422 (`not_allowed` on `due_at`).
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "orders", operation_id = "updateOrder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = UpdateOrderRequest,
    responses(
        (status = 200, description = "Updated", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn update_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: IfMatch,
    body: Json<UpdateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let body = body.0;
    let clock = state.clock();
    let mut errors = FieldErrors::new();
    let requirements = body
        .requirements
        .and_then(|r| errors.check("requirements", parse_requirements(&r)));
    let due_at = match body.due_at {
        None => None,
        Some(None) => {
            errors.push(FieldError::new("due_at", "required", "cannot be cleared"));
            None
        }
        Some(Some(d)) => errors.check("due_at", parse_due_at(d, clock.now)),
    };
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    let edits = orders::OrderEdits {
        requirements,
        due_at,
    };
    let row = app::orders::edit(&mut conn, viewer(&caller), id, edits, if_match.0).await?;
    let order = render_one(&mut conn, row, &caller, &clock).await?;
    Ok(order_ok(StatusCode::OK, &order))
}
