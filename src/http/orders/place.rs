//! Placing an order (idempotent).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::*;
use crate::app;
use crate::db::{self};
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::{etag, IdempotencyKey, Json};
use crate::http::idempotency;
use crate::http::state::AppState;

/// Place an order with a creative.
///
/// Honours `Idempotency-Key` (scoped to the caller, 24 h): the same key and body replay the first
/// response, refusals (4xx) included; the same key with another body is 422; while the first
/// request is still running, 409. A key whose request failed on our side (5xx) is freed.
///
/// A custom order to a creative whose `custom_orders` setting is `past_clients` is a 422
/// (`custom_orders_closed` on `creative_id`) unless the caller has completed an order with them;
/// their services stay open to everyone.
///
/// Each user may place `ORDERS_PER_USER_PER_HOUR` (30) orders an hour; beyond that, 429 with
/// `Retry-After`, so nobody can flood creatives with orders (each one notifies its creative).
#[utoipa::path(post, path = "/v1/orders", tag = "orders", operation_id = "createOrder",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Order placed; the creative is notified", body = OrderResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::EmailUnverified),
        (status = 409, description = "A request with this Idempotency-Key is still in progress (`idempotency_key_in_use`), or this request ran so long that a retry with its key took over (`idempotency_key_reclaimed`: the retry's answer counts, nothing of this one was kept)",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/idempotency-key-in-use", "title": "Request in progress", "status": 409,
                "detail": "A request with this Idempotency-Key is still being processed; retry shortly.",
                "code": "idempotency_key_in_use"})),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
pub(super) async fn create_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    key: IdempotencyKey,
    body: Json<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut conn = db::connection(&state.pool).await?;
    let claim = match idempotency::begin(&mut conn, &caller, &key, "POST /v1/orders", &body).await?
    {
        idempotency::Begin::Replay(response) => return Ok(response),
        idempotency::Begin::Proceed(claim) => claim,
    };
    let result = place(&mut conn, &state, &caller, &body, claim.as_ref()).await;
    if let Some(claim) = &claim {
        idempotency::settle(&mut conn, claim, &result).await;
    }
    result
}

pub(super) async fn place(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    caller: &AuthUser,
    body: &CreateOrderRequest,
    claim: Option<&idempotency::Claim>,
) -> Result<HttpResponse, ApiError> {
    // Counted after an idempotent replay is answered (a retry is not a new order); a 429 frees the
    // key, so the retry after `Retry-After` runs.
    caller.require_verified(state)?;
    state.creation_limits.orders.check(&caller.id)?;
    let mut input = app::orders::PlaceOrder::from(body);
    input.verified_creatives_only = state.settings.notifications.require_email_verification;
    let clock = state.clock();
    let response = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let row = app::orders::place(conn, caller.id, &input).await?;
            let response = render_one(conn, row, caller, &clock).await?;
            if let Some(claim) = claim {
                let headers = [
                    (header::LOCATION, format!("/v1/orders/{}", response.id)),
                    (header::ETAG, format!("\"{}\"", response.version)),
                ];
                idempotency::complete(conn, claim, StatusCode::CREATED, &headers, &response)
                    .await?;
            }
            Ok(response)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/orders/{}", response.id)))
        .insert_header(etag(response.version))
        .json(response))
}
