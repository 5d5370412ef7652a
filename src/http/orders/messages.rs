//! An order's thread over HTTP: post (idempotent), read a page either way, move the read marker.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::viewer;
use crate::app;
use crate::db::{self, attachments::AttachmentRow, messages::Position};
use crate::domain::ids::{AttachmentId, MessageId, OrderId, UserId};
use crate::domain::messages::{parse_body, MessageKind, MAX_ATTACHMENTS};
use crate::domain::order::ActorRole;
use crate::http::attachments::AttachmentResponse;
use crate::http::auth_user::{refuse_after_session_check, AuthUser, Bearer};
use crate::http::docs;
use crate::http::error::{invalid_field, ApiError};
use crate::http::extract::{optional_strict_uuid, IdempotencyKey, Json, StrictUuid};
use crate::http::state::AppState;
use crate::http::{idempotency, pagination, schemas};

#[derive(OpenApi)]
#[openapi(
    paths(create_message, list_messages, mark_read),
    components(schemas(
        CreateMessageRequest,
        MessageResponse,
        Sender,
        MessageKind,
        MarkReadRequest,
        ReadMarker
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders/{id}/messages")
            .route(web::get().to(list_messages))
            .route(web::post().to(create_message)),
    )
    .service(web::resource("/orders/{id}/messages/read").route(web::post().to(mark_read)));
}

#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Here is a first sketch; thoughts?",
    "attachment_ids": ["0193a0a4-c000-7c41-9a0e-2f1b7c9d8e09"]}))]
pub struct CreateMessageRequest {
    #[schema(schema_with = schemas::message)]
    body: String,
    /// Files uploaded to this order by the caller (`POST /v1/orders/{id}/attachments`) that no
    /// message or delivery holds yet; at most 20 (an id given twice counts once).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    attachment_ids: Option<Vec<StrictUuid<AttachmentId>>>,
}

/// Who wrote a message; `null` on system messages.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Sender {
    pub id: Uuid,
    pub display_name: String,
    pub role: ActorRole,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-b000-7c41-9a0e-2f1b7c9d8e07",
    "order_id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "kind": "user",
    "sender": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "display_name": "Ada Lovelace", "role": "client"},
    "body": "Here is a first sketch; thoughts?", "attachments": [], "read": true,
    "created_at": "2026-11-29T10:00:00Z"}))]
pub struct MessageResponse {
    pub id: Uuid,
    pub order_id: Uuid,
    pub kind: MessageKind,
    pub sender: Option<Sender>,
    pub body: String,
    pub attachments: Vec<AttachmentResponse>,
    /// Whether the caller wrote it or has read up to it.
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Messages right after this one (oldest first). With neither `after` nor `before`, the thread
    /// starts from its first message.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    after: Option<MessageId>,
    /// Messages right before this one, still oldest first: for scrolling back from the newest.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    before: Option<MessageId>,
    /// `next_cursor` of the previous page: the same as `after` its last message.
    #[param(max_length = 512, pattern = "^[A-Za-z0-9_-]*$")]
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"up_to": "0193a0a4-b000-7c41-9a0e-2f1b7c9d8e07"}))]
pub struct MarkReadRequest {
    /// A message of this thread: everything up to it counts as read.
    #[schema(value_type = Uuid)]
    up_to: StrictUuid<MessageId>,
}

/// Where the caller's read marker stands.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReadMarker {
    pub last_read_id: Uuid,
}

/// Renders messages for `caller`: senders' names in one query.
pub async fn render(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: &AuthUser,
    page: app::messages::Page,
) -> Result<Vec<MessageResponse>, ApiError> {
    let mut senders: Vec<_> = page.messages.iter().filter_map(|m| m.sender_id).collect();
    senders.sort();
    senders.dedup();
    let names: HashMap<_, _> = db::users::display_names(conn, &senders)
        .await?
        .into_iter()
        .collect();
    Ok(build(caller, page, &names))
}

/// The page as answered, with the senders' names already known.
fn build(
    caller: &AuthUser,
    page: app::messages::Page,
    names: &HashMap<UserId, String>,
) -> Vec<MessageResponse> {
    let mut files: std::collections::HashMap<MessageId, Vec<AttachmentRow>> = Default::default();
    for a in page.attachments {
        if let Some(m) = a.message_id {
            files.entry(m).or_default().push(a);
        }
    }
    page.messages
        .into_iter()
        .map(|m| MessageResponse {
            id: m.id.into(),
            order_id: m.order_id.into(),
            kind: m.kind,
            read: app::messages::is_read(&m, caller.id, page.last_read),
            sender: m.sender_id.map(|id| Sender {
                id: id.into(),
                display_name: names.get(&id).cloned().unwrap_or_default(),
                role: m.sender_role,
            }),
            attachments: files
                .remove(&m.id)
                .unwrap_or_default()
                .into_iter()
                .map(AttachmentResponse::from)
                .collect(),
            body: m.body,
            created_at: m.created_at,
        })
        .collect()
}

/// Parses the ids of files to attach: at most [`MAX_ATTACHMENTS`]; an id given twice counts once.
pub fn attachment_ids(
    ids: Option<Vec<StrictUuid<AttachmentId>>>,
) -> Result<Vec<AttachmentId>, ApiError> {
    let ids: Vec<AttachmentId> = ids.unwrap_or_default().into_iter().map(|i| i.0).collect();
    if ids.len() > MAX_ATTACHMENTS {
        return Err(ApiError::validation(
            "attachment_ids",
            "too_many",
            format!("at most {MAX_ATTACHMENTS} files"),
        ));
    }
    let mut unique = ids;
    unique.sort();
    unique.dedup();
    Ok(unique)
}

/// Write in an order's thread.
///
/// Its participants (and admins) may write while the order is open; once it is completed,
/// declined or cancelled the thread is read-only (409 `order_closed`). The other participants hear
/// of it (`message.posted`). Honours `Idempotency-Key` as order placement does: a retry with the
/// same key and body gets the first answer again, and posts nothing twice. Each user may post
/// `MESSAGES_PER_USER_PER_HOUR` (300) messages an hour (429 beyond).
#[utoipa::path(post, path = "/v1/orders/{id}/messages", tag = "messages", operation_id = "createMessage",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = CreateMessageRequest,
    responses(
        (status = 201, description = "Posted", body = MessageResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 409, description = "The order is closed (`order_closed`), or a request with this Idempotency-Key is still in progress",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/order-closed", "title": "Order closed", "status": 409,
                "detail": "The order is `completed`: its thread is kept, read-only.", "code": "order_closed"})),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_message(
    state: web::Data<AppState>,
    bearer: Bearer,
    id: web::Path<StrictUuid<OrderId>>,
    key: Result<IdempotencyKey, ApiError>,
    body: Result<Json<CreateMessageRequest>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let order_id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let (key, body) = match key.and_then(|key| Ok((key, body?.0))) {
        Ok(parsed) => parsed,
        Err(e) => return Err(refuse_after_session_check(&mut conn, &bearer, e).await),
    };
    let route = format!("POST /v1/orders/{order_id}/messages");
    // The key is claimed before the session is checked (that check folds into the order's lock
    // below); an answer given without the lock waits for the check.
    let claim = match idempotency::begin_for(&mut conn, bearer.user, &key, &route, &body).await {
        Ok(idempotency::Begin::Proceed(claim)) => claim,
        Ok(idempotency::Begin::Replay(response)) => {
            bearer.confirm(&mut conn).await?;
            return Ok(response);
        }
        Err(e) => return Err(refuse_after_session_check(&mut conn, &bearer, e).await),
    };
    let result = post(&mut conn, &state, &bearer, order_id, body, claim.as_ref()).await;
    if let Some(claim) = &claim {
        idempotency::settle(&mut conn, claim, &result).await;
    }
    result
}

async fn post(
    conn: &mut diesel_async::AsyncPgConnection,
    state: &AppState,
    bearer: &Bearer,
    order_id: OrderId,
    body: CreateMessageRequest,
    claim: Option<&idempotency::Claim>,
) -> Result<HttpResponse, ApiError> {
    let parsed = parse_body(&body.body)
        .map_err(|e| invalid_field("body", e))
        .and_then(|text| Ok((text, attachment_ids(body.attachment_ids)?)));
    let response = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // The session check and the order's lock, one statement. Found nothing: the check
            // alone says 401 or 404. Then, as before the fold: the rate limit for any live
            // caller, the body's refusal, and only then 404.
            let found =
                db::orders::lock_visible_in_session(conn, order_id, bearer.user, bearer.session)
                    .await?;
            let caller = match &found {
                Some(f) => bearer.caller(f.caller_is_admin, f.caller_email_verified),
                None => bearer.confirm(conn).await?,
            };
            state.creation_limits.messages.check(&caller.id)?;
            let (text, files) = parsed?;
            let found = found.ok_or(ApiError::NotFound("order"))?;
            let posted =
                app::messages::post(conn, viewer(&caller), found.order, text, &files).await?;
            let page = app::messages::Page {
                messages: vec![posted.message],
                attachments: posted.attachments,
                last_read: None,
            };
            let names = HashMap::from([(caller.id, found.caller_name)]);
            let response = build(&caller, page, &names).remove(0);
            if let Some(claim) = claim {
                idempotency::complete(conn, claim, StatusCode::CREATED, &[], &response).await?;
            }
            Ok(response)
        })
        .await?;
    Ok(HttpResponse::Created().json(response))
}

/// Read an order's thread, oldest first.
///
/// Pages go forward with `after` (or `cursor`, from `next_cursor`) and backward with `before` (a
/// backward page has no `next_cursor`: continue with `before` set to its first message); each
/// message says whether the caller has read it.
#[utoipa::path(get, path = "/v1/orders/{id}/messages", tag = "messages", operation_id = "listMessages",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), MessageQuery),
    responses(
        (status = 200, description = "One page of the thread", body = pagination::Page<MessageResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_messages(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    query: web::Query<MessageQuery>,
) -> Result<HttpResponse, ApiError> {
    let order_id = id.into_inner().0;
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let cursor = pagination::decode_opt::<Uuid>(q.cursor.as_deref())?.map(MessageId::from);
    let from = match (q.after.or(cursor), q.before) {
        (None, None) => Position::Start,
        (Some(after), None) => Position::After(after),
        (None, Some(before)) => Position::Before(before),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "conflicting_positions",
                "Give `after` (or `cursor`) or `before`, not both.",
            ))
        }
    };
    let mut conn = db::connection(&state.pool).await?;
    let mut page =
        app::messages::page(&mut conn, viewer(&caller), order_id, from, limit + 1).await?;
    let more = page.messages.len() as i64 > limit;
    if more {
        // Backward pages drop their oldest extra row; forward pages their newest.
        match from {
            Position::Before(_) => drop(page.messages.remove(0)),
            _ => page.messages.truncate(limit as usize),
        }
    }
    // Forward pages point to the next one; a backward page carries none (continue back with
    // `before` = its first message).
    let next_cursor = page
        .messages
        .last()
        .filter(|_| more && !matches!(from, Position::Before(_)))
        .map(|m| pagination::encode(&Uuid::from(m.id)));
    let data = render(&mut conn, &caller, page).await?;
    Ok(HttpResponse::Ok().json(pagination::Page { data, next_cursor }))
}

/// Mark the thread read up to a message.
///
/// The marker only moves forward: marking an older message changes nothing. Answers where the
/// marker stands.
#[utoipa::path(post, path = "/v1/orders/{id}/messages/read", tag = "messages", operation_id = "markMessagesRead",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = MarkReadRequest,
    responses(
        (status = 200, description = "Where the caller's read marker stands", body = ReadMarker),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn mark_read(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<OrderId>>,
    body: Json<MarkReadRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    let up_to = body.0.up_to.0;
    let at = app::messages::mark_read(&mut conn, viewer(&caller), order_id, up_to).await?;
    Ok(HttpResponse::Ok().json(ReadMarker {
        last_read_id: at.into(),
    }))
}
