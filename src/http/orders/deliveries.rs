//! Deliveries: the creative hands work over (a message and files), which moves the order to
//! `delivered` through the same path as every other move.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::messages::attachment_ids;
use super::{render_one, viewer, OrderResponse};
use crate::app::moves;
use crate::db::{self, attachments, deliveries};
use crate::domain::ids::{AttachmentId, DeliveryId, OrderId};
use crate::domain::messages::parse_body;
use crate::domain::order::OrderStatus;
use crate::http::attachments::AttachmentResponse;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{invalid_field, ApiError};
use crate::http::extract::{etag, IfMatch, Json, StrictUuid};
use crate::http::state::AppState;
use crate::http::{pagination, schemas};

#[derive(OpenApi)]
#[openapi(
    paths(create_delivery, list_deliveries),
    components(schemas(CreateDeliveryRequest, DeliveryResponse, CreatedDelivery))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/deliveries")
            .route(web::get().to(list_deliveries))
            .route(web::post().to(create_delivery)),
    );
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "Final files: logo in SVG and PNG.",
    "attachment_ids": ["0193a0a4-c000-7c41-9a0e-2f1b7c9d8e09"]}))]
pub struct CreateDeliveryRequest {
    /// What the creative says with the work; it also appears in the thread.
    #[schema(schema_with = schemas::message)]
    message: String,
    /// Files the creative uploaded to this order that no message or delivery holds yet; at most 20
    /// (an id given twice counts once).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    attachment_ids: Option<Vec<StrictUuid<AttachmentId>>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-d000-7c41-9a0e-2f1b7c9d8e0b",
    "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "message": "Final files: logo in SVG and PNG.",
    "message_id": "0193a0a4-b000-7c41-9a0e-2f1b7c9d8e07", "attachments": [],
    "created_at": "2026-11-29T10:00:00Z"}))]
pub struct DeliveryResponse {
    pub id: Uuid,
    pub order_id: Uuid,
    pub message: String,
    /// The delivery's message in the thread.
    pub message_id: Uuid,
    pub attachments: Vec<AttachmentResponse>,
    pub created_at: DateTime<Utc>,
}

/// A delivery and, on creation, the order it moved.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CreatedDelivery {
    #[serde(flatten)]
    pub delivery: DeliveryResponse,
    pub order: OrderResponse,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 512, pattern = "^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
}

async fn render(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: Vec<(deliveries::DeliveryRow, String)>,
) -> Result<Vec<DeliveryResponse>, ApiError> {
    let ids: Vec<DeliveryId> = rows.iter().map(|(d, _)| d.id).collect();
    let mut files = attachments::of_deliveries(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|(d, message)| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                files.drain(..).partition(|a| a.delivery_id == Some(d.id));
            files = rest;
            DeliveryResponse {
                id: d.id.into(),
                order_id: d.order_id.into(),
                message,
                message_id: d.message_id.into(),
                attachments: mine.into_iter().map(AttachmentResponse::from).collect(),
                created_at: d.created_at,
            }
        })
        .collect())
}

/// Deliver the work (the creative, while the order is `in_progress`).
///
/// Records the delivery (its message also goes into the thread; its files are attached to it) and
/// moves the order to `delivered` in the same transaction, through the same guarded update and
/// history as every move; the auto-completion clock starts. After a revision request a new delivery
/// is a new one; earlier ones stay. Takes `If-Match` with the order's version.
#[utoipa::path(post, path = "/v1/orders/{id}/deliveries", tag = "deliveries", operation_id = "createDelivery",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The order version last seen, e.g. `\"3\"`")),
    request_body = CreateDeliveryRequest,
    responses(
        (status = 201, description = "Delivered; the order is now `delivered`", body = CreatedDelivery,
            headers(("ETag" = String, description = "The order's new version"))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn create_delivery(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: IfMatch,
    body: Json<CreateDeliveryRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = id.into_inner().0;
    let body = body.0;
    let message = parse_body(&body.message).map_err(|e| invalid_field("message", e))?;
    let files = attachment_ids(body.attachment_ids)?;
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let request = moves::Request {
        caller: viewer(&caller),
        order_id,
        to: OrderStatus::Delivered,
        note: None,
        expected_version: if_match.0,
        request_id: crate::http::request_id::of(&req),
        delivery: Some(moves::Handover { message, files }),
    };
    let moved = moves::make(&mut conn, request, &clock, &state.settings.orders).await?;
    let delivery = moved
        .delivery
        .ok_or_else(|| anyhow::anyhow!("a move to delivered recorded no delivery"))?;
    let row = deliveries::find(&mut conn, delivery.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the delivery just recorded is gone"))?;
    let delivery = render(&mut conn, vec![row]).await?.remove(0);
    let order = render_one(&mut conn, moved.order, &caller, &clock).await?;
    Ok(HttpResponse::Created()
        .insert_header(etag(order.version))
        .json(CreatedDelivery { delivery, order }))
}

/// The order's deliveries, oldest first.
#[utoipa::path(get, path = "/v1/orders/{id}/deliveries", tag = "deliveries", operation_id = "listDeliveries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = pagination::Page<DeliveryResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_deliveries(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let order_id = id.into_inner().0;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let after = pagination::decode_opt::<Uuid>(query.cursor.as_deref())?.map(DeliveryId::from);
    let mut conn = db::connection(&state.pool).await?;
    crate::app::orders::visible(&mut conn, order_id, viewer(&caller)).await?;
    let rows = deliveries::page(&mut conn, order_id, after, limit + 1).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |(d, _)| Uuid::from(d.id));
    let data = render(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(pagination::Page { data, next_cursor }))
}
