//! "Order again": the client of a completed order places a new one with the same creative.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::place::place;
use super::{viewer, CreateOrderRequest};
use crate::app;
use crate::db::{self, services};
use crate::domain::ids::OrderId;
use crate::domain::order::{ActorRole, OrderStatus};
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::{IdempotencyKey, Json, StrictUuid};
use crate::http::idempotency;
use crate::http::money::MoneyDto;
use crate::http::schemas;
use crate::http::state::AppState;

/// What changes from the first order; everything else is copied.
#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_at": "2027-01-15T12:00:00Z", "requirements": "Same style, a winter theme."}))]
pub struct ReorderRequest {
    /// Required when the first order was a custom one (or its service is no longer offered); a
    /// service order's deadline comes from the service.
    due_at: Option<DateTime<Utc>>,
    /// Defaults to the first order's requirements.
    #[schema(schema_with = schemas::requirements_or_null)]
    requirements: Option<String>,
}

/// Order again from the creative of a completed order (its client only): from the same service at
/// its current price while it is still offered, otherwise as the same custom order (title, price,
/// revisions) with a new `due_at` (422 `required` without one). Honours `Idempotency-Key` as
/// placing an order does, and answers as it does.
#[utoipa::path(post, path = "/v1/orders/{id}/reorder", tag = "orders", operation_id = "reorderOrder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The completed order"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = ReorderRequest,
    responses(
        (status = 201, description = "The new order", body = super::OrderResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
pub(super) async fn reorder_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    key: IdempotencyKey,
    body: Json<ReorderRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let first = app::orders::visible(&mut conn, id, viewer(&caller)).await?;
    if app::moves::role_of(&first, viewer(&caller)) != ActorRole::Client {
        return Err(ApiError::Forbidden {
            code: "not_the_client",
            detail: "Only the order's client orders again.".into(),
        });
    }
    if first.status() != OrderStatus::Completed {
        return Err(ApiError::conflict(
            "order_not_completed",
            "Order not completed",
            "Order again from a completed order.",
        ));
    }
    let service = match first.service_id {
        Some(s) => services::find(&mut conn, s)
            .await?
            .filter(|s| s.archived_at.is_none()),
        None => None,
    };
    if service.is_none() && body.due_at.is_none() {
        return Err(ApiError::validation(
            "due_at",
            "required",
            "a custom order (or one whose service is no longer offered) needs a new due date",
        ));
    }
    let requirements = body
        .requirements
        .unwrap_or_else(|| first.requirements.clone());
    let request = match service {
        Some(s) => CreateOrderRequest::from_service(s.id.into(), requirements),
        None => CreateOrderRequest::custom(
            first.creative_id.into(),
            first.title.clone(),
            requirements,
            MoneyDto::from_parts(first.price_amount, &first.price_currency),
            body.due_at,
            first.revisions_included,
        ),
    };
    let scope = format!("POST /v1/orders/{id}/reorder");
    let claim = match idempotency::begin(&mut conn, &caller, &key, &scope, &request).await? {
        idempotency::Begin::Replay(response) => return Ok(response),
        idempotency::Begin::Proceed(claim) => claim,
    };
    let result = place(&mut conn, &state, &caller, &request, claim.as_ref()).await;
    if let Some(claim) = &claim {
        idempotency::settle(&mut conn, claim, &result).await;
    }
    result
}
