//! Orders: placing (idempotent), reading, listing and editing. Status changes live in
//! `transitions.rs` and `cancellations.rs`.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldError, FieldErrors};
use super::extract::{
    etag, nullable, optional_integer, optional_strict_uuid, IdempotencyKey, IfMatch, Json,
    StrictUuid,
};
use super::idempotency;
use super::money::MoneyDto;
use super::pagination::{self, search_text};
use super::schemas;
use super::state::AppState;
use crate::app;
use crate::db::{self, orders};
use crate::domain::order::{self as machine, ActorRole, Clock, OrderStatus};
use app::orders::{parse_due_at, parse_requirements};

#[derive(OpenApi)]
#[openapi(
    paths(create_order, list_orders, get_order, update_order),
    components(schemas(
        CreateOrderRequest,
        UpdateOrderRequest,
        OrderResponse,
        Party,
        OrderStatus,
        ActorRole,
        OrderSortParam,
        RoleParam
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/orders")
            .route(web::post().to(create_order))
            .route(web::get().to(list_orders)),
    )
    .service(
        web::resource("/orders/{id}")
            .route(web::get().to(get_order))
            .route(web::patch().to(update_order)),
    );
}

/// Either `service_id` (title, price, due date and revisions come from the service) or a custom
/// order (`creative_id`, `title`, `price`, `due_at`, optionally `revisions_included`).
#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"service_id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e02", "requirements": "A fox, orange and teal."}),
    json!({"creative_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "title": "Album cover",
        "requirements": "3000x3000 px, moody.", "price": {"amount": 40000, "currency": "EUR"},
        "due_at": "2026-12-20T12:00:00Z", "revisions_included": 2})
))]
pub struct CreateOrderRequest {
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    service_id: Option<Uuid>,
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    creative_id: Option<Uuid>,
    #[schema(schema_with = schemas::title_or_null)]
    title: Option<String>,
    /// What the client needs.
    #[schema(schema_with = schemas::requirements)]
    requirements: String,
    price: Option<MoneyDto>,
    /// Must be in the future.
    due_at: Option<DateTime<Utc>>,
    /// Custom orders only; 0 to 100, default 0.
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, deserialize_with = "optional_integer")]
    revisions_included: Option<i32>,
}

impl From<&CreateOrderRequest> for app::orders::PlaceOrder {
    fn from(body: &CreateOrderRequest) -> Self {
        app::orders::PlaceOrder {
            service_id: body.service_id,
            creative_id: body.creative_id,
            title: body.title.clone(),
            requirements: body.requirements.clone(),
            price: body.price.as_ref().map(|p| (p.amount, p.currency.clone())),
            due_at: body.due_at,
            revisions_included: body.revisions_included,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"requirements": "A fox, orange and teal; no text.", "due_at": "2026-12-22T12:00:00Z"}))]
pub struct UpdateOrderRequest {
    #[schema(schema_with = schemas::requirements_or_null)]
    requirements: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    /// A new deadline; it cannot be cleared, so `null` is refused.
    #[schema(value_type = DateTime<Utc>, required = false)]
    due_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub id: Uuid,
    pub display_name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "status": "new", "version": 1,
    "title": "Logo design", "requirements": "A fox, orange and teal.",
    "price": {"amount": 15000, "currency": "EUR"}, "due_at": "2026-12-05T15:12:52Z", "late": false,
    "revisions_used": 0, "revisions_included": 2,
    "client": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "display_name": "Grace"},
    "creative": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "display_name": "Ada"},
    "service_id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e02", "your_role": "creative",
    "allowed_transitions": ["in_progress", "declined"], "delivered_at": null, "auto_complete_at": null,
    "created_at": "2026-11-28T15:12:52Z", "updated_at": "2026-11-28T15:12:52Z"}))]
pub struct OrderResponse {
    pub id: Uuid,
    pub status: OrderStatus,
    /// Increments on every change; send it back in `If-Match`.
    pub version: i64,
    pub title: String,
    pub requirements: String,
    pub price: MoneyDto,
    pub due_at: DateTime<Utc>,
    /// Past `due_at` and not yet delivered or closed.
    pub late: bool,
    pub revisions_used: i32,
    pub revisions_included: i32,
    pub client: Party,
    pub creative: Party,
    pub service_id: Option<Uuid>,
    /// The caller's part in this order.
    pub your_role: ActorRole,
    /// The statuses the caller may move the order to now, for drawing buttons.
    pub allowed_transitions: Vec<OrderStatus>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When a delivered order completes by itself if the client does nothing.
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The caller's part in an order they can see (the query already checked they may).
pub fn role_of(row: &orders::OrderRow, caller: &AuthUser) -> ActorRole {
    let me = caller.id.as_uuid();
    if row.client_id == me {
        ActorRole::Client
    } else if row.creative_id == me {
        ActorRole::Creative
    } else {
        ActorRole::Admin
    }
}

/// The order if the caller may see it; 404 otherwise, whether it is absent or not theirs.
pub async fn visible_order(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    caller: &AuthUser,
) -> Result<orders::OrderRow, ApiError> {
    orders::find_visible(conn, id, viewer(caller))
        .await?
        .ok_or(ApiError::NotFound("order"))
}

pub fn viewer(caller: &AuthUser) -> orders::Viewer {
    orders::Viewer {
        user_id: caller.id.as_uuid(),
        is_admin: caller.is_admin,
    }
}

/// Renders orders for the caller, loading the parties' names in one query.
pub async fn render(
    conn: &mut AsyncPgConnection,
    rows: Vec<orders::OrderRow>,
    caller: &AuthUser,
    clock: &Clock,
) -> Result<Vec<OrderResponse>, ApiError> {
    let mut ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.client_id, r.creative_id])
        .collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<Uuid, String> = orders::display_names(conn, &ids)
        .await?
        .into_iter()
        .collect();
    let party = |id: Uuid| Party {
        id,
        display_name: names.get(&id).cloned().unwrap_or_default(),
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let f = row.facts();
            let role = role_of(&row, caller);
            OrderResponse {
                id: row.id,
                status: f.status,
                version: row.version,
                late: f.is_late(clock.now),
                allowed_transitions: machine::allowed_moves(&f, role, clock),
                your_role: role,
                client: party(row.client_id),
                creative: party(row.creative_id),
                title: row.title,
                requirements: row.requirements,
                price: MoneyDto::from_parts(row.price_amount, &row.price_currency),
                due_at: row.due_at,
                revisions_used: row.revisions_used,
                revisions_included: row.revisions_included,
                service_id: row.service_id,
                delivered_at: row.delivered_at,
                auto_complete_at: row.auto_complete_at,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        })
        .collect())
}

pub async fn render_one(
    conn: &mut AsyncPgConnection,
    row: orders::OrderRow,
    caller: &AuthUser,
    clock: &Clock,
) -> Result<OrderResponse, ApiError> {
    let mut list = render(conn, vec![row], caller, clock).await?;
    list.pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("rendering an order produced nothing")))
}

pub fn order_ok(status: StatusCode, order: &OrderResponse) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(order.version))
        .json(order)
}

/// Place an order with a creative.
///
/// Honours `Idempotency-Key` (scoped to the caller, 24 h): the same key and body replay the first
/// response, refusals (4xx) included; the same key with another body is 422; while the first
/// request is still running, 409. A key whose request failed on our side (5xx) is freed.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", operation_id = "createOrder",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters of the caller's choosing")),
    request_body = CreateOrderRequest,
    responses(
        (status = 201, description = "Order placed; the creative is notified", body = OrderResponse,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 409, description = "A request with this Idempotency-Key is still in progress",
            body = crate::http::error::ProblemDetails, content_type = "application/problem+json",
            example = json!({"type": "/problems/idempotency-key-in-use", "title": "Request in progress", "status": 409,
                "detail": "A request with this Idempotency-Key is still being processed; retry shortly.",
                "code": "idempotency_key_in_use"})),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn create_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    key: IdempotencyKey,
    body: Json<CreateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut conn = db::connection(&state.pool).await?;
    let claim = match idempotency::begin(&mut conn, &caller, &key, "POST /v1/orders", &body).await?
    {
        idempotency::Begin::Replay(response) => return Ok(response),
        idempotency::Begin::Proceed(claim) => claim,
    };
    let result = place(&mut conn, &state, &caller, &body, claim.as_ref()).await;
    if let Some(claim) = &claim {
        idempotency::settle(&mut conn, claim, &result).await;
    }
    result
}

async fn place(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    caller: &AuthUser,
    body: &CreateOrderRequest,
    claim: Option<&idempotency::Claim>,
) -> Result<HttpResponse, ApiError> {
    let input = app::orders::PlaceOrder::from(body);
    let clock = state.clock();
    let response = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let row = app::orders::place(conn, caller.id.as_uuid(), &input).await?;
            let response = render_one(conn, row, caller, &clock).await?;
            if let Some(claim) = claim {
                let headers = [
                    (header::LOCATION, format!("/v1/orders/{}", response.id)),
                    (header::ETAG, format!("\"{}\"", response.version)),
                ];
                idempotency::complete(conn, claim, StatusCode::CREATED, &headers, &response)
                    .await?;
            }
            Ok(response)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/orders/{}", response.id)))
        .insert_header(etag(response.version))
        .json(response))
}

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
    #[param(value_type = Option<Vec<OrderStatus>>, style = Form, explode = false, max_items = 7)]
    status: Option<String>,
    /// `true`: only late orders; `false`: only orders that are not late.
    late: Option<bool>,
    /// Case-insensitive text in the title.
    #[param(schema_with = schemas::search)]
    q: Option<String>,
    /// Only orders due before this instant (RFC 3339).
    due_before: Option<DateTime<Utc>>,
    /// `newest` (default) or `due_at`.
    sort: Option<OrderSortParam>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page (with the same filters and sort).
    cursor: Option<String>,
}

/// `?status=`: order statuses separated by commas, as the document's `explode: false` array says;
/// empty means no filter.
fn status_filter(raw: Option<&str>) -> Result<Vec<OrderStatus>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else {
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
async fn list_orders(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = pagination::limit(query.limit)?;
    let statuses = status_filter(query.status.as_deref())?;
    let sort = query.sort.unwrap_or_default();
    let after = match pagination::decode_opt::<Cursor>(query.cursor.as_deref())? {
        None => None,
        Some(Cursor::Newest { id }) if sort == OrderSortParam::Newest => {
            Some(orders::OrderCursor::Newest { id })
        }
        Some(Cursor::DueAt { d, id }) if sort == OrderSortParam::DueAt => {
            Some(orders::OrderCursor::DueAt { due_at: d, id })
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_cursor",
                "The cursor belongs to another sort order; start again without it.",
            ))
        }
    };
    let clock = state.clock();
    let mut conn = db::connection(&state.pool).await?;
    let rows = orders::list(
        &mut conn,
        orders::OrderFilter {
            viewer: caller.id.as_uuid(),
            role: match query.role {
                Some(RoleParam::Client) => orders::RoleFilter::Client,
                Some(RoleParam::Creative) => orders::RoleFilter::Creative,
                None => orders::RoleFilter::Either,
            },
            statuses,
            late: query.late,
            q: search_text(query.q)?,
            due_before: query.due_before,
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
    let (rows, next_cursor) = pagination::page(rows, limit, |r| match sort {
        OrderSortParam::Newest => Cursor::Newest { id: r.id },
        OrderSortParam::DueAt => Cursor::DueAt {
            d: r.due_at,
            id: r.id,
        },
    });
    let data = render(&mut conn, rows, &caller, &clock).await?;
    Ok(HttpResponse::Ok().json(pagination::Page { data, next_cursor }))
}

/// One order, for its client, its creative or an admin.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", operation_id = "getOrder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = visible_order(&mut conn, id.into_inner().0, &caller).await?;
    let order = render_one(&mut conn, row, &caller, &state.clock()).await?;
    Ok(order_ok(StatusCode::OK, &order))
}

/// Edit the requirements or due date (the client, while the order is `new`).
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "orders", operation_id = "updateOrder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = UpdateOrderRequest,
    responses(
        (status = 200, description = "Updated", body = OrderResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn update_order(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid>,
    if_match: IfMatch,
    body: Json<UpdateOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let body = body.0;
    let clock = state.clock();
    let mut errors = FieldErrors::new();
    let requirements = body
        .requirements
        .and_then(|r| errors.check("requirements", parse_requirements(&r)));
    let due_at = match body.due_at {
        None => None,
        Some(None) => {
            errors.push(FieldError::new("due_at", "required", "cannot be cleared"));
            None
        }
        Some(Some(d)) => errors.check("due_at", parse_due_at(d, clock.now)),
    };
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    let edits = orders::OrderEdits {
        requirements,
        due_at,
    };
    let row = app::orders::edit(&mut conn, viewer(&caller), id, edits, if_match.0).await?;
    let order = render_one(&mut conn, row, &caller, &clock).await?;
    Ok(order_ok(StatusCode::OK, &order))
}
