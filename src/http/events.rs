//! The live event stream (Server-Sent Events), and the tickets browsers' `EventSource` uses to
//! authenticate it.

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::auth_user::Bearer;
use super::docs;
use super::error::ApiError;
use super::state::AppState;
use crate::app::live::{self, Listener};
use crate::db;

#[derive(OpenApi)]
#[openapi(
    paths(stream_events, create_ticket),
    components(schemas(EventStreamTicket, ServerSentEvent))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/events").route(web::get().to(stream_events)))
        .service(web::resource("/events/ticket").route(web::post().to(create_ticket)));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// A ticket from `POST /v1/events/ticket`, for clients that cannot send `Authorization`
    /// (browsers' `EventSource`). Single use, valid 30 seconds.
    #[param(max_length = 64)]
    ticket: Option<String>,
    /// The same as the `Last-Event-ID` header, for a client that reconnects with a new ticket (a
    /// new `EventSource` cannot set the header). The header wins when both are sent.
    #[param(max_length = 64)]
    last_event_id: Option<String>,
}

const BAD_TICKET: &str = "The ticket is unknown, already used or expired; ask for a new one.";

/// Your events as they happen (Server-Sent Events).
///
/// Every event that concerns you (the same events as your in-app notifications, and the new
/// messages in your orders) arrives as
///
/// ```text
/// id: 0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10
/// event: message.posted
/// data: {"id":"0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10","type":"message.posted","created_at":"…","data":{…}}
/// ```
///
/// `data` is the envelope described by the `Event` schema. Lines starting with `:` are heartbeats
/// (every 15 s). Reconnect with `Last-Event-ID` (EventSource does so by itself) to receive, in
/// order, whatever happened since that event, up to 24 hours back; an id the server does not know
/// (or anything that is not an event id) replays the last 24 hours. Nothing is skipped and nothing
/// sent twice.
///
/// Authenticate with `Authorization: Bearer …`, or with `?ticket=` from `POST /v1/events/ticket`.
/// One account may hold 5 streams per server (429 beyond). A client that cannot keep up is
/// disconnected, and resumes with `Last-Event-ID`. The stream ends when the session does, and
/// after an hour at most (`LIVE_MAX_DURATION`): reconnecting resumes it.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "streamEvents",
    security(("bearer" = []), ()),
    params(StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, max_length = 64,
            description = "The `id` of the last event received, to resume after it")),
    responses(
        (status = 200, description = "The stream; it stays open", content_type = "text/event-stream", body = ServerSentEvent),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn stream_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let last_event_id = last_event_id(&req, query.last_event_id.as_deref())?;
    if query
        .ticket
        .as_ref()
        .is_some_and(|t| t.len() > MAX_PARAM_LEN)
    {
        return Err(ApiError::validation(
            "ticket",
            "too_long",
            "at most 64 characters",
        ));
    }
    let ticket = query.ticket.filter(|t| !t.is_empty());
    let mut conn = db::connection(&state.pool).await?;
    let listener = match ticket {
        Some(ticket) => live::redeem_ticket(&mut conn, &ticket)
            .await?
            .ok_or(ApiError::Unauthorized(BAD_TICKET))?,
        None => {
            let bearer = Bearer::extract(&req).await?;
            bearer.confirm(&mut conn).await?;
            Listener {
                user: bearer.user,
                session: bearer.session,
            }
        }
    };
    let stream = live::open(&state.hub, &state.pool, &mut conn, listener, last_event_id).await?;
    // The stream outlives the request's connection, which goes back to the pool now.
    drop(conn);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        // Proxies that buffer responses (nginx) would hold events back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream.into_stream()))
}

/// The longest `ticket`, `last_event_id` or `Last-Event-ID` accepted.
const MAX_PARAM_LEN: usize = 64;

/// What to resume after: `None` for a fresh stream; an id that is no event's (not even a UUID)
/// stands for "some point before now" and replays the window, as an unknown event id does.
fn last_event_id(req: &HttpRequest, query: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or_default());
    if header.is_some_and(|h| h.len() > MAX_PARAM_LEN) {
        return Err(ApiError::bad_request(
            "invalid_last_event_id",
            "Last-Event-ID is at most 64 characters: the id of an event.",
        ));
    }
    if query.is_some_and(|q| q.len() > MAX_PARAM_LEN) {
        return Err(ApiError::validation(
            "last_event_id",
            "too_long",
            "at most 64 characters",
        ));
    }
    let Some(raw) = header.or(query).map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(Uuid::parse_str(raw).unwrap_or(Uuid::nil())))
}

/// One event of the stream as SSE frames it (`id:`, `event:`, `data:` lines); the first frame
/// carries only `retry:`.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10", "event": "order.placed",
    "data": "{\"id\":\"0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10\",\"type\":\"order.placed\",\"created_at\":\"2026-11-28T15:12:52.000000Z\",\"data\":{}}"}))]
pub struct ServerSentEvent {
    /// The event's id: send it back as `Last-Event-ID` to resume after it.
    pub id: Option<String>,
    /// The event type (`order.placed`, …).
    pub event: Option<String>,
    /// The envelope as one line of JSON: an `Event`.
    pub data: Option<String>,
    /// How long EventSource waits before reconnecting, in milliseconds.
    pub retry: Option<i64>,
}

/// A single-use ticket for `GET /v1/events?ticket=`.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"ticket": "q7C0bQ6J2oWmY1v9p3XkR4tH8sN5aZ0eL6uD2fG7hJ1",
    "expires_at": "2026-11-28T15:13:22Z"}))]
pub struct EventStreamTicket {
    pub ticket: String,
    /// 30 seconds from now; the ticket works once before then.
    pub expires_at: DateTime<Utc>,
}

/// Get a ticket to open the event stream where `Authorization` cannot be sent.
///
/// Browsers' `EventSource` sends no headers: ask for a ticket with your bearer token, then open
/// `new EventSource("/v1/events?ticket=" + ticket)` within 30 seconds. A ticket works once, and
/// only while the session that asked for it lasts, so EventSource's own reconnection (same URL)
/// is refused: on `error`, close it, get a new ticket, and open
/// `/v1/events?ticket=<new>&last_event_id=<the last id received>` to carry on where it stopped.
/// `EVENT_TICKETS_PER_USER_PER_HOUR` (600) tickets an hour; 429 beyond.
#[utoipa::path(post, path = "/v1/events/ticket", tag = "events", operation_id = "createEventStreamTicket",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The ticket", body = EventStreamTicket),
        (status = 401, response = docs::Unauthorized),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_ticket(
    state: web::Data<AppState>,
    bearer: Bearer,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    bearer.confirm(&mut conn).await?;
    state.creation_limits.event_tickets.check(&bearer.user)?;
    let listener = Listener {
        user: bearer.user,
        session: bearer.session,
    };
    let (ticket, expires_at) = live::issue_ticket(&mut conn, listener).await?;
    Ok(HttpResponse::Created().json(EventStreamTicket { ticket, expires_at }))
}
