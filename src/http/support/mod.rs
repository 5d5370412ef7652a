//! Support tickets for their users: open one, read your own, reply, add files. The team's side is
//! under `/v1/admin/tickets`.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{Json, StrictUuid};
use super::orders::messages::attachment_ids;
use super::pagination::{self, Page};
use super::state::AppState;
use crate::app::{self, support::NewMessage};
use crate::db::{self, attachments::Scope, support::Filter};
use crate::domain::ids::{OrderId, TicketId};
use crate::domain::support::{self as rules, TicketStatus};

pub mod dto;

use dto::{
    CreateTicketRequest, TicketDetail, TicketMessageResponse, TicketReplyRequest, TicketResponse,
};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_ticket,
        list_tickets,
        get_ticket,
        reply_to_ticket,
        upload_ticket_attachment
    ),
    components(schemas(
        CreateTicketRequest,
        TicketReplyRequest,
        TicketResponse,
        TicketDetail,
        TicketMessageResponse,
        TicketStatus,
        crate::domain::support::AuthorRole
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/support/tickets")
            .route(web::post().to(create_ticket))
            .route(web::get().to(list_tickets)),
    )
    .service(web::resource("/support/tickets/{id}").route(web::get().to(get_ticket)))
    .service(web::resource("/support/tickets/{id}/replies").route(web::post().to(reply_to_ticket)))
    .service(
        web::resource("/support/tickets/{id}/attachments")
            .route(web::post().to(upload_ticket_attachment)),
    );
}

/// Parses a message's body and files, every problem at once.
pub(crate) fn parse_message(
    body: &str,
    files: Option<Vec<StrictUuid<crate::domain::ids::AttachmentId>>>,
    internal: bool,
) -> Result<NewMessage, ApiError> {
    let mut errors = FieldErrors::new();
    let body = errors.check("body", rules::parse_body(body));
    let files = errors.absorb(attachment_ids(files))?;
    errors.into_result()?;
    Ok(NewMessage {
        body: body.unwrap_or_default(),
        files: files.unwrap_or_default(),
        internal,
    })
}

/// Ask the support team for help, about one of your orders or not.
///
/// An `order_id` that is not one of your orders is 422 `unknown_order`. `attachment_ids` are files
/// you uploaded to that order and attached nowhere yet; they move to the ticket. Each user opens at
/// most `SUPPORT_TICKETS_PER_USER_PER_HOUR` (10) tickets an hour (429 beyond). You are emailed
/// when the team answers.
#[utoipa::path(post, path = "/v1/support/tickets", tag = "support", operation_id = "createTicket",
    security(("bearer" = [])),
    request_body = CreateTicketRequest,
    responses(
        (status = 201, description = "Opened", body = TicketDetail, headers(("Location" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_ticket(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateTicketRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let subject = errors.check("subject", rules::parse_subject(&body.subject));
    let message = errors.absorb(parse_message(&body.body, body.attachment_ids, false))?;
    errors.into_result()?;
    let (Some(subject), Some(message)) = (subject, message) else {
        return Err(anyhow::anyhow!("a parsed ticket lost a field").into());
    };
    state.creation_limits.support_tickets.check(&caller.id)?;
    let new = app::support::NewTicket {
        subject,
        body: message.body,
        order_id: body.order_id.map(OrderId::from_uuid),
        files: message.files,
    };
    let mut conn = db::connection(&state.pool).await?;
    let thread = app::support::open(&mut conn, caller.id, new).await?;
    let detail = TicketDetail::new(thread, chrono::Utc::now());
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header((
            header::LOCATION,
            format!("/v1/support/tickets/{}", detail.ticket.id),
        ))
        .json(detail))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OwnTicketsQuery {
    /// One status or several, comma-separated: `status=open,waiting_on_user`.
    #[param(value_type = Option<Vec<TicketStatus>>, style = Form, explode = false, min_items = 1, max_items = 4)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters).
    cursor: Option<String>,
}

pub(crate) fn status_filter(raw: Option<&str>) -> Result<Vec<TicketStatus>, ApiError> {
    pagination::name_list(raw, "status", TicketStatus::ALL.len(), TicketStatus::parse)
}

/// One page of tickets, newest first.
pub(crate) async fn ticket_page(
    state: &AppState,
    filter: Filter,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<crate::db::support::TicketRow>, ApiError> {
    let limit = pagination::limit(limit)?;
    let before =
        pagination::decode_opt::<pagination::IdCursor>(cursor)?.map(|c| TicketId::from_uuid(c.i));
    let mut conn = db::connection(&state.pool).await?;
    let rows = db::support::list(&mut conn, &filter, before, limit + 1).await?;
    let (data, next_cursor) =
        pagination::page(rows, limit, |t| pagination::IdCursor { i: t.id.into() });
    Ok(Page { data, next_cursor })
}

/// Your tickets, newest first.
#[utoipa::path(get, path = "/v1/support/tickets", tag = "support", operation_id = "listTickets",
    security(("bearer" = [])),
    params(OwnTicketsQuery),
    responses(
        (status = 200, description = "A page of your tickets", body = Page<TicketResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_tickets(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<OwnTicketsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = Filter {
        user: Some(caller.id),
        statuses: status_filter(q.status.as_deref())?,
        ..Default::default()
    };
    let page = ticket_page(&state, filter, q.limit, q.cursor.as_deref()).await?;
    let now = chrono::Utc::now();
    Ok(HttpResponse::Ok().json(Page {
        data: page
            .data
            .iter()
            .map(|t| TicketResponse::new(t, now))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of your tickets with its messages (the team's internal notes are never shown).
#[utoipa::path(get, path = "/v1/support/tickets/{id}", tag = "support", operation_id = "getTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = TicketDetail),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_ticket(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<TicketId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let thread = app::support::own_thread(&mut conn, caller.id, id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(TicketDetail::new(thread, chrono::Utc::now())))
}

/// Write on your ticket: it goes back to the team. A resolved ticket reopens if you reply within
/// 14 days of its resolution; after that it is closed (409 `ticket_closed`: open a new one).
/// Replies count against `MESSAGES_PER_USER_PER_HOUR`.
#[utoipa::path(post, path = "/v1/support/tickets/{id}/replies", tag = "support", operation_id = "replyToTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = TicketReplyRequest,
    responses(
        (status = 201, description = "Posted", body = TicketMessageResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn reply_to_ticket(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<TicketId>>,
    body: Json<TicketReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let new = parse_message(&body.body, body.attachment_ids, false)?;
    state.creation_limits.messages.check(&caller.id)?;
    let mut conn = db::connection(&state.pool).await?;
    let (_, message) =
        app::support::user_reply(&mut conn, caller.id, id.into_inner().0, new).await?;
    message_created(&mut conn, message).await
}

/// 201 with the message as written, its files included.
pub(crate) async fn message_created(
    conn: &mut diesel_async::AsyncPgConnection,
    message: crate::db::support::MessageRow,
) -> Result<HttpResponse, ApiError> {
    let files = db::attachments::of_support_messages(conn, &[message.id]).await?;
    Ok(HttpResponse::Created().json(TicketMessageResponse::new(message, &files)))
}

/// Upload a file to a ticket (yours, or any for the team), as `multipart/form-data` with one part
/// named `file`; then send its id in a reply's `attachment_ids`. Limits as for order files; files
/// no reply takes within 24 hours are deleted. A closed ticket takes none (409 `ticket_closed`).
#[utoipa::path(post, path = "/v1/support/tickets/{id}/attachments", tag = "support", operation_id = "uploadTicketAttachment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body(content = crate::http::attachments::UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = crate::http::attachments::AttachmentResponse, headers(("Location" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 408, response = docs::RequestTimeout),
        (status = 409, response = docs::Conflict),
        (status = 413, response = docs::PayloadTooLarge),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
async fn upload_ticket_attachment(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<TicketId>>,
    form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let scope = Scope::Ticket(id.into_inner().0);
    super::attachments::receive(&state, &caller, scope, form).await
}
