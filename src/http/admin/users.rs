//! Accounts for the team: find a user, see their orders and tickets, disable and enable them, send
//! them a password reset.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::tickets::StaffTicket;
use super::StaffCaller;
use crate::app;
use crate::db::{self, orders::OrderRow, users::UserRow};
use crate::domain::ids::UserId;
use crate::domain::order::OrderStatus;
use crate::domain::text;
use crate::http::docs;
use crate::http::error::{invalid_field, ApiError};
use crate::http::extract::{Json, StrictUuid};
use crate::http::money::MoneyDto;
use crate::http::pagination::{self, Page};
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(search_users, get_user, disable_user, enable_user, send_password_reset),
    components(schemas(StaffUser, StaffUserDetail, OrderSummary, AccessRequest))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/users").route(web::get().to(search_users)))
        .service(web::resource("/admin/users/{id}").route(web::get().to(get_user)))
        .service(web::resource("/admin/users/{id}/disable").route(web::post().to(disable_user)))
        .service(web::resource("/admin/users/{id}/enable").route(web::post().to(enable_user)))
        .service(
            web::resource("/admin/users/{id}/password-reset")
                .route(web::post().to(send_password_reset)),
        );
}

/// An account as the team sees it.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "email": "ada@example.com",
    "display_name": "Ada", "is_admin": false, "email_verified": true, "disabled_at": null,
    "version": 3, "created_at": "2026-11-20T10:00:00Z"}))]
pub struct StaffUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub email_verified: bool,
    /// When support disabled the account; null while it is active.
    pub disabled_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRow> for StaffUser {
    fn from(u: &UserRow) -> Self {
        StaffUser {
            id: u.id.into(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            is_admin: u.is_admin,
            email_verified: u.email_verified_at.is_some(),
            disabled_at: u.disabled_at,
            version: u.version,
            created_at: u.created_at,
        }
    }
}

/// One of a user's orders, in brief (the whole order: `GET /v1/orders/{id}`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct OrderSummary {
    pub id: Uuid,
    pub title: String,
    pub status: OrderStatus,
    pub client_id: Uuid,
    pub creative_id: Uuid,
    pub price: MoneyDto,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<&OrderRow> for OrderSummary {
    fn from(o: &OrderRow) -> Self {
        OrderSummary {
            id: o.id.into(),
            title: o.title.clone(),
            status: o.status(),
            client_id: o.client_id.into(),
            creative_id: o.creative_id.into(),
            price: MoneyDto::from_parts(o.price_amount, &o.price_currency),
            due_at: o.due_at,
            created_at: o.created_at,
        }
    }
}

/// A user with their 20 latest orders (either side) and tickets.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StaffUserDetail {
    #[serde(flatten)]
    pub user: StaffUser,
    pub orders: Vec<OrderSummary>,
    pub tickets: Vec<StaffTicket>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// Part of the address or display name, case-insensitive; absent: everyone.
    #[param(schema_with = schemas::search)]
    q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same `q`).
    cursor: Option<String>,
}

/// Find users by email or name, newest first (admins only).
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", operation_id = "searchUsers",
    security(("bearer" = [])),
    params(UserSearchQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<StaffUser>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn search_users(
    state: web::Data<AppState>,
    _staff: StaffCaller,
    query: web::Query<UserSearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let text = pagination::search_text(q.q)?;
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?
        .map(|c| UserId::from_uuid(c.i));
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::accounts::search(&mut conn, text.as_deref(), before, limit + 1).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |u| pagination::IdCursor { i: u.id.into() });
    Ok(HttpResponse::Ok().json(Page {
        data: rows.iter().map(StaffUser::from).collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// A user with their latest orders and tickets (admins only).
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", operation_id = "getUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = StaffUserDetail),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_user(
    state: web::Data<AppState>,
    _staff: StaffCaller,
    id: web::Path<StrictUuid<UserId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let o = app::admin::user_overview(&mut conn, id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(StaffUserDetail {
        user: StaffUser::from(&o.user),
        orders: o.orders.iter().map(OrderSummary::from).collect(),
        tickets: o.tickets.iter().map(StaffTicket::new).collect(),
    }))
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Payment fraud reported by three clients."}))]
pub struct AccessRequest {
    /// Why, for the audit log.
    #[schema(schema_with = schemas::reason)]
    reason: String,
}

async fn set_access(
    state: &AppState,
    staff: &StaffCaller,
    id: UserId,
    disabled: bool,
    reason: &str,
) -> Result<HttpResponse, ApiError> {
    let reason = text::REASON
        .parse(reason)
        .map_err(|e| invalid_field("reason", e))?;
    let mut conn = db::connection(&state.pool).await?;
    let row = app::admin::set_disabled(&mut conn, &staff.0, id, disabled, &reason).await?;
    Ok(HttpResponse::Ok().json(StaffUser::from(&row)))
}

/// Disable an account (admins only): its sessions end at once, so its access and refresh tokens
/// stop working on their next use, and it cannot sign in. Disabling a disabled account changes
/// nothing. Your own account: 409 `own_account`.
#[utoipa::path(post, path = "/v1/admin/users/{id}/disable", tag = "admin", operation_id = "disableUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AccessRequest,
    responses(
        (status = 200, description = "Disabled", body = StaffUser),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn disable_user(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<UserId>>,
    body: Json<AccessRequest>,
) -> Result<HttpResponse, ApiError> {
    set_access(&state, &staff, id.into_inner().0, true, &body.0.reason).await
}

/// Enable a disabled account again (admins only); the user signs in anew.
#[utoipa::path(post, path = "/v1/admin/users/{id}/enable", tag = "admin", operation_id = "enableUser",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AccessRequest,
    responses(
        (status = 200, description = "Enabled", body = StaffUser),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn enable_user(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<UserId>>,
    body: Json<AccessRequest>,
) -> Result<HttpResponse, ApiError> {
    set_access(&state, &staff, id.into_inner().0, false, &body.0.reason).await
}

/// Email the user a password-reset link, as if they had asked (admins only). 409
/// `account_disabled` for a disabled account.
#[utoipa::path(post, path = "/v1/admin/users/{id}/password-reset", tag = "admin", operation_id = "sendPasswordReset",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 202, description = "The mail is on its way"),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
    ))]
async fn send_password_reset(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<UserId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    app::admin::send_password_reset(&mut conn, &staff.0, id.into_inner().0).await?;
    Ok(HttpResponse::Accepted().finish())
}
