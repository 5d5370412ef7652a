//! Orders for the team: more time for the creative, and the settlement of disputes. (Reading any
//! order, its history, thread and files is the ordinary `/v1/orders/...` routes: admins see all.)

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use validator::Validate;

use super::StaffCaller;
use crate::app;
use crate::db;
use crate::domain::ids::OrderId;
use crate::domain::order::OrderStatus;
use crate::domain::text;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::{ApiError, FieldErrors};
use crate::http::extract::{IfMatch, Json, StrictUuid};
use crate::http::money::MoneyDto;
use crate::http::orders::OrderResponse;
use crate::http::orders::{order_ok, render_one};
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(extend_due_date, resolve_dispute),
    components(schemas(DueDateRequest, DisputeResolutionRequest, DisputeOutcome))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/orders/{id}/due-date").route(web::post().to(extend_due_date)),
    )
    .service(
        web::resource("/admin/orders/{id}/dispute-resolution")
            .route(web::post().to(resolve_dispute)),
    );
}

/// The team member, as orders are rendered for a viewer.
fn as_viewer(staff: &StaffCaller) -> AuthUser {
    AuthUser {
        id: staff.0.id,
        is_admin: true,
        email_verified: true,
    }
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"due_at": "2026-12-24T12:00:00Z", "note": "The client changed the brief late."}))]
pub struct DueDateRequest {
    /// Later than the current due date, and at most 365 days after it.
    due_at: DateTime<Utc>,
    /// Why; shown to both parties.
    #[schema(schema_with = schemas::reason)]
    note: String,
}

/// Give the creative more time (admins only): both parties are told, with the reason, and the
/// thread records it. Only while the work is not handed over (`new`, `in_progress`, `disputed`;
/// otherwise 409 `due_date_fixed`). A party to the order cannot (403 `own_order`).
#[utoipa::path(post, path = "/v1/admin/orders/{id}/due-date", tag = "admin", operation_id = "extendDueDate",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The order version last seen, e.g. `\"3\"`")),
    request_body = DueDateRequest,
    responses(
        (status = 200, description = "Extended", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn extend_due_date(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: IfMatch,
    body: Json<DueDateRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let note = errors.check("note", text::REASON.parse(&body.note));
    let due_at = errors.check("due_at", crate::domain::time::bounded(body.due_at));
    errors.into_result()?;
    let (Some(note), Some(due_at)) = (note, due_at) else {
        return Err(anyhow::anyhow!("a parsed due date lost a field").into());
    };
    let change = app::admin::DueDateChange {
        due_at,
        note,
        expected_version: if_match.0,
    };
    let mut conn = db::connection(&state.pool).await?;
    let row = app::admin::extend_due_date(&mut conn, &staff.0, id.into_inner().0, change).await?;
    let order = render_one(&mut conn, row, &as_viewer(&staff), &state.clock()).await?;
    Ok(order_ok(actix_web::http::StatusCode::OK, &order))
}

/// How a dispute ends.
#[derive(Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// The work stands: the order completes.
    Completed,
    /// The order is cancelled.
    Cancelled,
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "completed", "note": "The delivery matches the brief."}))]
pub struct DisputeResolutionRequest {
    outcome: DisputeOutcome,
    /// The decision's reasons; shown to both parties.
    #[schema(schema_with = schemas::reason)]
    note: String,
    /// Part of the escrow returned to the client, in the order's currency; the rest is released to
    /// the creative less the platform fee. It cannot exceed what the escrow holds (422
    /// `exceeds_escrow`).
    #[serde(default, deserialize_with = "crate::http::extract::optional_object")]
    client_refund: Option<MoneyDto>,
}

/// Settle a dispute (admins only), the one way a disputed order moves on: the move, its history
/// and thread line, the money's split and the audit entry in one transaction; both parties are
/// told. A party to the order cannot (403 `own_order`): nobody resolves their own dispute. 409
/// `not_disputed` if the order is not in dispute.
#[utoipa::path(post, path = "/v1/admin/orders/{id}/dispute-resolution", tag = "admin", operation_id = "resolveDispute",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The order version last seen, e.g. `\"3\"`")),
    request_body = DisputeResolutionRequest,
    responses(
        (status = 200, description = "Resolved", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn resolve_dispute(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<OrderId>>,
    if_match: IfMatch,
    body: Json<DisputeResolutionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let note = errors.check("note", text::REASON.parse(&body.note));
    let refund = body
        .client_refund
        .as_ref()
        .and_then(|m| m.parse_price("client_refund", &mut errors));
    errors.into_result()?;
    let resolution = app::admin::Resolution {
        outcome: match body.outcome {
            DisputeOutcome::Completed => OrderStatus::Completed,
            DisputeOutcome::Cancelled => OrderStatus::Cancelled,
        },
        note: note.unwrap_or_default(),
        client_refund: refund,
        expected_version: if_match.0,
    };
    let clock = state.clock();
    let timings = &state.settings.orders;
    let mut conn = db::connection(&state.pool).await?;
    let row = app::admin::resolve_dispute(
        &mut conn,
        &staff.0,
        id.into_inner().0,
        resolution,
        &clock,
        timings,
    )
    .await?;
    let order = render_one(&mut conn, row, &as_viewer(&staff), &clock).await?;
    Ok(order_ok(actix_web::http::StatusCode::OK, &order))
}
