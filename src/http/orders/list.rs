//! Listing the caller's orders: filters, sorts, keyset cursors.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::*;
use crate::db::{self, orders};
use crate::domain::order::OrderStatus;
use crate::domain::time;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::invalid_field;
use crate::http::error::ApiError;
use crate::http::pagination::{self, search_text};
use crate::http::schemas;
use crate::http::state::AppState;

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleParam {
    Client,
    Creative,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrderSortParam {
    /// Newest first (default).
    #[default]
    Newest,
    /// Soonest due first.
    DueAt,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only orders where the caller is the client, or the creative. Default: both.
    role: Option<RoleParam>,
    /// One status or several, comma-separated: `status=new,in_progress`.
    #[param(value_type = Option<Vec<OrderStatus>>, style = Form, explode = false, min_items = 1, max_items = 7)]
    status: Option<String>,
    /// `true`: only late orders; `false`: only orders that are not late.
    late: Option<bool>,
    /// Case-insensitive text in the title.
    #[param(schema_with = schemas::search)]
    q: Option<String>,
    /// Only orders due before this instant (RFC 3339, years 0001 to 9999).
    due_before: Option<DateTime<Utc>>,
    /// `newest` (default) or `due_at`.
    sort: Option<OrderSortParam>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters and sort).
    cursor: Option<String>,
}

/// `?status=`: one or more order statuses separated by commas, as the document's `explode: false`
/// array says; leave it out for no filter. An empty value is refused: in a query string it cannot
/// be told from `null`.
fn status_filter(raw: Option<&str>) -> Result<Vec<OrderStatus>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = raw.split(',').collect();
    if names.len() > OrderStatus::ALL.len() {
        return Err(ApiError::validation(
            "status",
            "too_many",
            format!("at most {} statuses", OrderStatus::ALL.len()),
        ));
    }
    names
        .into_iter()
        .map(|name| {
            OrderStatus::parse(name).ok_or_else(|| {
                ApiError::validation(
                    "status",
                    "unknown_status",
                    format!("`{name}` is not an order status"),
                )
            })
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "s")]
enum Cursor {
    #[serde(rename = "n")]
    Newest { id: Uuid },
    #[serde(rename = "d")]
    DueAt { d: DateTime<Utc>, id: Uuid },
}

/// Where the page starts: after the cursor, which must belong to the same sort.
fn position(
    sort: OrderSortParam,
    cursor: Option<&str>,
) -> Result<Option<orders::OrderCursor>, ApiError> {
    let foreign = || {
        ApiError::bad_request(
            "invalid_cursor",
            "The cursor belongs to another sort order; start again without it.",
        )
    };
    Ok(match pagination::decode_opt::<Cursor>(cursor)? {
        None => None,
        Some(Cursor::Newest { id }) if sort == OrderSortParam::Newest => {
            Some(orders::OrderCursor::Newest { id: id.into() })
        }
        // A cursor is opaque but can be hand-made: its instant is bounded like any other.
        Some(Cursor::DueAt { d, id }) if sort == OrderSortParam::DueAt => {
            let due_at = time::bounded(d).map_err(|_| pagination::invalid_cursor())?;
            Some(orders::OrderCursor::DueAt {
                due_at,
                id: id.into(),
            })
        }
        Some(_) => return Err(foreign()),
    })
}

/// The caller's orders, one page.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", operation_id = "listOrders",
    security(("bearer" = [])),
    params(OrderQuery),
    responses(
        (status = 200, description = "One page of the caller's orders", body = pagination::Page<OrderResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
pub(super) async fn list_orders(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let statuses = status_filter(query.status.as_deref())?;
    let sort = query.sort.unwrap_or_default();
    let after = position(sort, query.cursor.as_deref())?;
    let due_before = query
        .due_before
        .map(time::bounded)
        .transpose()
        .map_err(|e| invalid_field("due_before", e))?;
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let rows = orders::list(
        &mut conn,
        orders::OrderFilter {
            viewer: caller.id,
            role: match query.role {
                Some(RoleParam::Client) => orders::RoleFilter::Client,
                Some(RoleParam::Creative) => orders::RoleFilter::Creative,
                None => orders::RoleFilter::Either,
            },
            statuses,
            late: query.late,
            q: search_text(query.q)?,
            due_before,
            sort: match sort {
                OrderSortParam::Newest => orders::OrderSort::Newest,
                OrderSortParam::DueAt => orders::OrderSort::DueAt,
            },
            after,
            limit: limit + 1,
            now: clock.now,
        },
    )
    .await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |v| match sort {
        OrderSortParam::Newest => Cursor::Newest {
            id: v.order.id.into(),
        },
        OrderSortParam::DueAt => Cursor::DueAt {
            d: v.order.due_at,
            id: v.order.id.into(),
        },
    });
    let data = rows
        .into_iter()
        .map(|v| render_view(v, &caller, &clock))
        .collect();
    Ok(HttpResponse::Ok().json(pagination::Page { data, next_cursor }))
}
