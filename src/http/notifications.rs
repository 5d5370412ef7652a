//! The in-app inbox and notification preferences. Inbox rows are written by the worker from the
//! same events as the emails, so both say the same thing.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{Json, StrictUuid};
use super::pagination;
use super::state::AppState;
use crate::app;
use crate::db::{self, notifications::NotificationRow};
use crate::domain::ids::NotificationId;
use crate::domain::notify::{wanted, Channel, Preference, RULES};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_notifications,
        read_notification,
        read_all,
        get_preferences,
        put_preferences
    ),
    components(schemas(
        NotificationResponse,
        ReadAllResponse,
        Channel,
        PreferenceResponse,
        PreferencesResponse,
        PreferenceChange,
        PreferencesRequest
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/notifications").route(web::get().to(list_notifications)))
        .service(web::resource("/notifications/read-all").route(web::post().to(read_all)))
        .service(web::resource("/notifications/{id}/read").route(web::post().to(read_notification)))
        .service(
            web::resource("/me/notification-preferences")
                .route(web::get().to(get_preferences))
                .route(web::put().to(put_preferences)),
        );
}

/// One notification in the caller's inbox.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "01938a8e-2b1c-7f00-8000-00000000000a", "event_id": "01938a8e-2b1c-7f00-8000-000000000001",
    "event_type": "order.placed", "order_id": "01938a8e-2b1c-7f00-8000-000000000002",
    "title": "New order: “Logo for a bakery”",
    "body": "Grace Hopper placed an order with you. Confirm or decline it.",
    "created_at": "2026-11-29T10:00:00Z", "read_at": null}))]
pub struct NotificationResponse {
    pub id: Uuid,
    /// The event it reports (the same id as in the email's Message-ID).
    pub event_id: Uuid,
    pub event_type: String,
    pub order_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRow> for NotificationResponse {
    fn from(r: NotificationRow) -> Self {
        NotificationResponse {
            id: r.id.as_uuid(),
            event_id: r.event_id,
            event_type: r.event_type,
            order_id: r.order_id.map(|o| o.as_uuid()),
            title: r.title,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only notifications not yet read.
    unread: Option<bool>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", operation_id = "listNotifications",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "One page of notifications", body = pagination::Page<NotificationResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_notifications(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let before = pagination::decode_opt::<Uuid>(query.cursor.as_deref())?;
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::notifications::list(
        &mut conn,
        caller.id,
        query.unread.unwrap_or(false),
        before.map(NotificationId::from),
        limit + 1,
    )
    .await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |r| r.id.as_uuid());
    Ok(HttpResponse::Ok().json(pagination::Page {
        data: rows.into_iter().map(NotificationResponse::from).collect(),
        next_cursor,
    }))
}

/// Mark one notification read (again is harmless).
#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications", operation_id = "readNotification",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = NotificationResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn read_notification(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<NotificationId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = db::notifications::mark_read(&mut conn, caller.id, id.into_inner().0)
        .await?
        .ok_or(ApiError::NotFound("notification"))?;
    Ok(HttpResponse::Ok().json(NotificationResponse::from(row)))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"marked_read": 3}))]
pub struct ReadAllResponse {
    /// How many were unread until now.
    pub marked_read: usize,
}

/// Mark every notification of the caller read.
#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", operation_id = "readAllNotifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All read", body = ReadAllResponse),
        (status = 401, response = docs::Unauthorized),
    ))]
async fn read_all(state: web::Data<AppState>, caller: AuthUser) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let marked_read = db::notifications::mark_all_read(&mut conn, caller.id).await?;
    Ok(HttpResponse::Ok().json(ReadAllResponse { marked_read }))
}

/// One (event type, channel) and whether the caller gets it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PreferenceResponse {
    pub event_type: String,
    pub channel: Channel,
    pub enabled: bool,
    /// What applies when the caller has not chosen.
    pub default: bool,
    /// Security mail (password reset, address verification): always sent, cannot be turned off.
    pub locked: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"preferences": [
    {"event_type": "order.placed", "channel": "email", "enabled": true, "default": true, "locked": false},
    {"event_type": "order.updated", "channel": "email", "enabled": false, "default": false, "locked": false},
    {"event_type": "message.posted", "channel": "in_app", "enabled": true, "default": true, "locked": false},
    {"event_type": "user.password_reset_requested", "channel": "email", "enabled": true, "default": true, "locked": true}]}))]
pub struct PreferencesResponse {
    /// Every event type and channel there is, with its default.
    pub preferences: Vec<PreferenceResponse>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceChange {
    /// An event type `GET /v1/me/notification-preferences` lists: `order.placed`,
    /// `order.updated`, `order.status_changed`, `order.cancellation_requested`,
    /// `order.cancellation_rejected`, `message.posted` (and the security mail, which stays on).
    #[schema(max_length = 64)]
    pub event_type: String,
    pub channel: Channel,
    pub enabled: bool,
}

/// The choices to change; those left out stay as they are.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"preferences": [
    {"event_type": "message.posted", "channel": "email", "enabled": false}]}))]
pub struct PreferencesRequest {
    #[validate(length(max = 32))]
    #[schema(max_items = 32)]
    pub preferences: Vec<PreferenceChange>,
}

async fn preferences_of(
    state: &AppState,
    caller: &AuthUser,
) -> Result<PreferencesResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let stored = db::notifications::preferences_of(&mut conn, &[caller.id]).await?;
    let chosen = |event: &str, channel: Channel| {
        stored
            .iter()
            .find(|(_, e, c, _)| e == event && *c == channel)
            .map(|(_, _, _, on)| *on)
    };
    let preferences = RULES
        .iter()
        .flat_map(|rule| Channel::ALL.map(|channel| (rule, channel)))
        .filter(|(rule, channel)| rule.offers(*channel))
        .map(|(rule, channel)| PreferenceResponse {
            event_type: rule.event_type.to_string(),
            channel,
            enabled: wanted(rule.event_type, channel, chosen(rule.event_type, channel)),
            default: rule.default_for(channel),
            locked: rule.locked,
        })
        .collect();
    Ok(PreferencesResponse { preferences })
}

/// Which notifications the caller gets, per event type and channel.
#[utoipa::path(get, path = "/v1/me/notification-preferences", tag = "notifications", operation_id = "getNotificationPreferences",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every event type and channel, with the caller's choice and the default", body = PreferencesResponse),
        (status = 401, response = docs::Unauthorized),
    ))]
async fn get_preferences(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(preferences_of(&state, &caller).await?))
}

/// Change some notification choices.
///
/// Security mail (`user.password_reset_requested`, `user.email_verification_requested`) is always
/// sent: turning it off is a 422 (`security_notification`), as is an unknown event type or a
/// channel an event is never sent on.
#[utoipa::path(put, path = "/v1/me/notification-preferences", tag = "notifications", operation_id = "putNotificationPreferences",
    security(("bearer" = [])),
    request_body = PreferencesRequest,
    responses(
        (status = 200, description = "The choices now in force", body = PreferencesResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn put_preferences(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<PreferencesRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let changes: Vec<Preference> = body
        .0
        .preferences
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let field = format!("preferences[{i}].event_type");
            errors.check(
                &field,
                Preference::parse(&p.event_type, p.channel, p.enabled),
            )
        })
        .collect();
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    app::notifications::set_preferences(&mut conn, caller.id, &changes).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(preferences_of(&state, &caller).await?))
}
