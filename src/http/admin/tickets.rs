//! Support tickets for the team: every ticket, its internal notes, assigning, answering, resolving.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::StaffCaller;
use crate::app;
use crate::db::{self, support::Filter, support::TicketRow};
use crate::domain::ids::{AttachmentId, OrderId, TicketId, UserId};
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::{nullable, optional_strict_uuid, Json, StrictUuid};
use crate::http::pagination::Page;
use crate::http::schemas;
use crate::http::state::AppState;
use crate::http::support::dto::{TicketDetail, TicketMessageResponse, TicketResponse};
use crate::http::support::{message_created, parse_message, status_filter, ticket_page};

#[derive(OpenApi)]
#[openapi(
    paths(
        list_all_tickets,
        get_any_ticket,
        assign_ticket,
        answer_ticket,
        resolve_ticket
    ),
    components(schemas(StaffTicket, StaffTicketDetail, AssignRequest, StaffReplyRequest))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/tickets").route(web::get().to(list_all_tickets)))
        .service(web::resource("/admin/tickets/{id}").route(web::get().to(get_any_ticket)))
        .service(web::resource("/admin/tickets/{id}/assign").route(web::post().to(assign_ticket)))
        .service(web::resource("/admin/tickets/{id}/replies").route(web::post().to(answer_ticket)))
        .service(
            web::resource("/admin/tickets/{id}/resolve").route(web::post().to(resolve_ticket)),
        );
}

/// A ticket as the team sees it: whose it is and who handles it.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-d000-7c41-9a0e-2f1b7c9d8e40",
    "user_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "assigned_to": null,
    "order_id": null, "subject": "I cannot log in on my phone", "status": "open", "message_count": 1,
    "resolved_at": null, "version": 2, "created_at": "2026-11-29T10:00:00Z",
    "updated_at": "2026-11-29T10:00:00Z"}))]
pub struct StaffTicket {
    pub user_id: Uuid,
    /// The team member handling it.
    pub assigned_to: Option<Uuid>,
    #[serde(flatten)]
    pub ticket: TicketResponse,
}

impl StaffTicket {
    pub fn new(t: &TicketRow) -> Self {
        StaffTicket {
            user_id: t.user_id.into(),
            assigned_to: t.assigned_to.map(Into::into),
            ticket: TicketResponse::new(t, chrono::Utc::now()),
        }
    }
}

/// A ticket with every message, the team's internal notes included.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct StaffTicketDetail {
    pub user_id: Uuid,
    pub assigned_to: Option<Uuid>,
    #[serde(flatten)]
    pub detail: TicketDetail,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaffTicketsQuery {
    /// One status or several, comma-separated: `status=open,waiting_on_user`.
    #[param(value_type = Option<Vec<crate::domain::support::TicketStatus>>, style = Form, explode = false, min_items = 1, max_items = 4)]
    status: Option<String>,
    /// Only tickets assigned to this team member.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    assigned_to: Option<Uuid>,
    /// Only tickets about this order.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    order_id: Option<Uuid>,
    /// Only this user's tickets.
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    #[param(value_type = Option<Uuid>)]
    user_id: Option<Uuid>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters).
    cursor: Option<String>,
}

/// Every ticket, newest first, with filters (admins only). A team member's own tickets and those
/// about orders they are a party to are left out: someone else handles them.
#[utoipa::path(get, path = "/v1/admin/tickets", tag = "admin", operation_id = "listAllTickets",
    security(("bearer" = [])),
    params(StaffTicketsQuery),
    responses(
        (status = 200, description = "A page of tickets", body = Page<StaffTicket>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_all_tickets(
    state: web::Data<AppState>,
    staff: StaffCaller,
    query: web::Query<StaffTicketsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = Filter {
        user: q.user_id.map(UserId::from_uuid),
        statuses: status_filter(q.status.as_deref())?,
        assigned_to: q.assigned_to.map(UserId::from_uuid),
        order: q.order_id.map(OrderId::from_uuid),
        not_involving: Some(staff.0.id),
    };
    let page = ticket_page(&state, filter, q.limit, q.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(Page {
        data: page.data.iter().map(StaffTicket::new).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn detail(
    state: &AppState,
    staff: &StaffCaller,
    id: TicketId,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let thread = app::support::staff_thread(&mut conn, &staff.0, id).await?;
    let (user_id, assigned_to) = (thread.ticket.user_id, thread.ticket.assigned_to);
    Ok(HttpResponse::Ok().json(StaffTicketDetail {
        user_id: user_id.into(),
        assigned_to: assigned_to.map(Into::into),
        detail: TicketDetail::new(thread, chrono::Utc::now()),
    }))
}

/// Any ticket with all its messages, internal notes included (admins only): 403 `own_ticket` or
/// `own_order` for one of the member's own or about their order.
#[utoipa::path(get, path = "/v1/admin/tickets/{id}", tag = "admin", operation_id = "getAnyTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "The ticket", body = StaffTicketDetail),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_any_ticket(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<TicketId>>,
) -> Result<HttpResponse, ApiError> {
    detail(&state, &staff, id.into_inner().0).await
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"assignee_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e07"}))]
pub struct AssignRequest {
    /// An active member of the team; null to unassign.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>, required = true)]
    assignee_id: Option<Option<StrictUuid<UserId>>>,
}

/// Assign a ticket to a team member, or unassign it with `null` (admins only). A team member's own
/// ticket is handled by someone else (403 `own_ticket`).
#[utoipa::path(post, path = "/v1/admin/tickets/{id}/assign", tag = "admin", operation_id = "assignTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = AssignRequest,
    responses(
        (status = 200, description = "Assigned", body = StaffTicket),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn assign_ticket(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<TicketId>>,
    body: Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let to = body
        .0
        .assignee_id
        .ok_or_else(|| {
            ApiError::validation(
                "assignee_id",
                "required",
                "give a team member's id, or null to unassign",
            )
        })?
        .map(|a| a.0);
    let mut conn = db::connection(&state.pool).await?;
    let row = app::support::assign(&mut conn, &staff.0, id.into_inner().0, to).await?;
    Ok(HttpResponse::Ok().json(StaffTicket::new(&row)))
}

#[derive(Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "We re-sent the file; could you try again?", "internal": false}))]
pub struct StaffReplyRequest {
    #[schema(schema_with = schemas::message)]
    body: String,
    /// `true`: an internal note, seen by the team only; the ticket's status does not change.
    #[serde(default)]
    internal: bool,
    /// Files uploaded to this ticket and attached nowhere yet (not on internal notes). At most 20.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 20)]
    attachment_ids: Option<Vec<StrictUuid<AttachmentId>>>,
}

/// Answer a ticket (its user is emailed, and it waits on them) or add an internal note (admins
/// only). A closed ticket takes nothing (409 `ticket_closed`).
#[utoipa::path(post, path = "/v1/admin/tickets/{id}/replies", tag = "admin", operation_id = "answerTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    request_body = StaffReplyRequest,
    responses(
        (status = 201, description = "Posted", body = TicketMessageResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn answer_ticket(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<TicketId>>,
    body: Json<StaffReplyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let new = parse_message(&body.body, body.attachment_ids, body.internal)?;
    let mut conn = db::connection(&state.pool).await?;
    let (_, message) =
        app::support::staff_reply(&mut conn, &staff.0, id.into_inner().0, new).await?;
    message_created(&mut conn, message).await
}

/// Resolve a ticket (admins only): its user is emailed, and may reopen it by replying within 14
/// days. 409 `ticket_resolved` if it is already.
#[utoipa::path(post, path = "/v1/admin/tickets/{id}/resolve", tag = "admin", operation_id = "resolveTicket",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses(
        (status = 200, description = "Resolved", body = StaffTicket),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::AdminOnly),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
    ))]
async fn resolve_ticket(
    state: web::Data<AppState>,
    staff: StaffCaller,
    id: web::Path<StrictUuid<TicketId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = app::support::resolve(&mut conn, &staff.0, id.into_inner().0).await?;
    Ok(HttpResponse::Ok().json(StaffTicket::new(&row)))
}
