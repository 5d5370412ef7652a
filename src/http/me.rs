//! The caller's own account.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{etag, nullable, IfMatch, Json};
use super::schemas;
use super::state::AppState;
use crate::db::{self, users};
use crate::domain::account::{
    parse_avatar_url, parse_bio, parse_time_zone, CustomOrders, DisplayName,
};

#[derive(OpenApi)]
#[openapi(
    paths(get_me, update_me),
    components(schemas(UserResponse, UpdateMeRequest, CustomOrders))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/me")
            .route(web::get().to(get_me))
            .route(web::patch().to(update_me)),
    );
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "email": "ada@example.com",
    "display_name": "Ada Lovelace", "bio": "Illustrator", "avatar_url": "https://cdn.example.com/ada.png",
    "time_zone": "Europe/London", "is_admin": false, "custom_orders": "anyone", "version": 2,
    "created_at": "2026-11-28T15:12:52Z", "updated_at": "2026-11-28T15:20:00Z"}))]
pub struct UserResponse {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub time_zone: String,
    pub is_admin: bool,
    /// Who may send this user custom orders.
    pub custom_orders: CustomOrders,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<users::UserRow> for UserResponse {
    fn from(row: users::UserRow) -> Self {
        UserResponse {
            id: row.id.into(),
            email: row.email,
            display_name: row.display_name,
            bio: row.bio,
            avatar_url: row.avatar_url,
            time_zone: row.time_zone,
            is_admin: row.is_admin,
            custom_orders: row.custom_orders,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Profile fields the caller may change. Anything else (`id`, `email`, `is_admin`, …) is refused
/// with 422 rather than ignored, so a client learns at once that it cannot set it.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "Ada L.", "bio": "Illustrator and letterer", "time_zone": "Europe/London"}))]
pub struct UpdateMeRequest {
    #[schema(schema_with = schemas::display_name_or_null)]
    display_name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::bio_or_null)]
    bio: Option<Option<String>>,
    /// An absolute http(s) URL; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::avatar_url_or_null)]
    avatar_url: Option<Option<String>>,
    /// IANA name such as `Europe/Berlin`.
    #[schema(max_length = 64, pattern = "^[A-Z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")]
    time_zone: Option<String>,
    /// `past_clients` turns off custom orders from anyone who has not completed an order with you
    /// (service orders stay open).
    custom_orders: Option<CustomOrders>,
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "me", operation_id = "getMe",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserResponse,
            headers(("ETag" = String, description = "The account's version, for If-Match"))),
        (status = 401, response = docs::Unauthorized),
    ))]
async fn get_me(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let user = users::find(&mut conn, caller.id)
        .await?
        .ok_or(ApiError::Unauthorized("The account no longer exists."))?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(user.version))
        .json(UserResponse::from(user)))
}

/// Change the caller's profile.
#[utoipa::path(patch, path = "/v1/me", tag = "me", operation_id = "updateMe",
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"2\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated account", body = UserResponse,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn update_me(
    state: web::Data<AppState>,
    caller: AuthUser,
    if_match: IfMatch,
    body: Json<UpdateMeRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let changes = users::ProfileChanges {
        display_name: body
            .display_name
            .and_then(|v| errors.check("display_name", DisplayName::parse(&v)))
            .map(DisplayName::into_inner),
        bio: body.bio.map(|v| {
            v.and_then(|b| errors.check("bio", parse_bio(&b)))
                .filter(|b| !b.is_empty())
        }),
        avatar_url: body
            .avatar_url
            .map(|v| v.and_then(|u| errors.check("avatar_url", parse_avatar_url(&u)))),
        time_zone: body
            .time_zone
            .and_then(|v| errors.check("time_zone", parse_time_zone(&v))),
        custom_orders: body.custom_orders,
    };
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    match users::update_profile(&mut conn, caller.id, changes, if_match.0).await? {
        users::Update::Updated(user) => Ok(HttpResponse::Ok()
            .insert_header(etag(user.version))
            .json(UserResponse::from(user))),
        users::Update::Stale(current_version) => {
            Err(ApiError::PreconditionFailed { current_version })
        }
        users::Update::NotFound => Err(ApiError::Unauthorized("The account no longer exists.")),
    }
}
