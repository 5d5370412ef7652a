//! Orders: placing (idempotent), reading, listing and editing. Status changes live in
//! `transitions.rs` and `cancellations.rs`.

use crate::domain::ids::OrderId;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel_async::AsyncPgConnection;
use utoipa::OpenApi;

use super::auth_user::AuthUser;
use super::error::ApiError;
use super::extract::etag;
use super::money::MoneyDto;
use crate::db::orders;
use crate::domain::order::{self as machine, ActorRole, Clock, OrderStatus};

pub mod cancellations;
pub mod deliveries;
mod dto;
mod edit;
mod list;
pub mod messages;
pub mod payment_terms;
mod place;
mod reorder;
pub mod transitions;

pub use dto::*;

#[derive(OpenApi)]
#[openapi(
    paths(
        place::create_order,
        list::list_orders,
        edit::get_order,
        edit::update_order,
        reorder::reorder_order
    ),
    components(schemas(
        CreateOrderRequest,
        UpdateOrderRequest,
        OrderResponse,
        Party,
        OrderStatus,
        ActorRole,
        list::OrderSortParam,
        list::RoleParam,
        reorder::ReorderRequest
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders")
            .route(web::post().to(place::create_order))
            .route(web::get().to(list::list_orders)),
    )
    .service(
        web::resource("/orders/{id}")
            .route(web::get().to(edit::get_order))
            .route(web::patch().to(edit::update_order)),
    )
    .service(web::resource("/orders/{id}/reorder").route(web::post().to(reorder::reorder_order)));
}

/// The order if the caller may see it; 404 otherwise, whether it is absent or not theirs.
pub async fn visible_order(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    caller: &AuthUser,
) -> Result<orders::OrderRow, ApiError> {
    crate::app::orders::visible(conn, id, viewer(caller)).await
}

pub fn viewer(caller: &AuthUser) -> orders::Viewer {
    orders::Viewer {
        user_id: caller.id,
        is_admin: caller.is_admin,
    }
}

/// Renders orders for the caller, loading the parties' names and unread counts for the page.
pub async fn render(
    conn: &mut AsyncPgConnection,
    rows: Vec<orders::OrderRow>,
    caller: &AuthUser,
    clock: &Clock,
) -> Result<Vec<OrderResponse>, ApiError> {
    let views = orders::views(conn, rows, caller.id).await?;
    Ok(views
        .into_iter()
        .map(|v| render_view(v, caller, clock))
        .collect())
}

/// One order as the caller sees it: their role, the moves open to them, lateness now.
pub fn render_view(view: orders::OrderView, caller: &AuthUser, clock: &Clock) -> OrderResponse {
    let row = view.order;
    let f = row.facts();
    let role = crate::app::moves::role_of(&row, viewer(caller));
    OrderResponse {
        id: row.id.into(),
        status: f.status,
        version: row.version,
        late: f.is_late(clock.now),
        unread_count: view.unread_count,
        allowed_transitions: machine::allowed_moves(&f, role, clock),
        your_role: role,
        client: Party {
            id: row.client_id.into(),
            display_name: view.client_name,
        },
        creative: Party {
            id: row.creative_id.into(),
            display_name: view.creative_name,
        },
        title: row.title,
        requirements: row.requirements,
        price: MoneyDto::from_parts(row.price_amount, &row.price_currency),
        due_at: row.due_at,
        revisions_used: row.revisions_used,
        revisions_included: row.revisions_included,
        service_id: row.service_id.map(Into::into),
        delivered_at: row.delivered_at,
        auto_complete_at: row.auto_complete_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

pub async fn render_one(
    conn: &mut AsyncPgConnection,
    row: orders::OrderRow,
    caller: &AuthUser,
    clock: &Clock,
) -> Result<OrderResponse, ApiError> {
    let view = orders::view_one(conn, row, caller.id).await?;
    Ok(render_view(view, caller, clock))
}

pub fn order_ok(status: StatusCode, order: &OrderResponse) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(order.version))
        .json(order)
}
