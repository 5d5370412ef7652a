//! Integrators' webhook endpoints: the owner's to create, read, change, rotate and delete; anyone
//! else's id is a 404.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{etag, IfMatch, Json, StrictUuid};
use super::pagination::{self, Page};
use super::reviews::PageQuery;
use super::state::AppState;
use crate::app::webhooks::{self as app, EndpointPatch, NewEndpointRequest};
use crate::db::{self, webhooks as queries};
use crate::domain::ids::WebhookEndpointId;
use crate::domain::text;
use crate::domain::webhooks::{parse_events, WebhookUrl};

pub mod dto;

use dto::{
    CreateWebhookEndpointRequest, DisabledReason, UpdateWebhookEndpointRequest,
    WebhookAttemptResponse, WebhookEndpointResponse, WebhookEndpointWithSecret,
};

#[derive(OpenApi)]
#[openapi(
    paths(
        create_endpoint,
        list_endpoints,
        get_endpoint,
        update_endpoint,
        delete_endpoint,
        rotate_secret,
        list_deliveries
    ),
    components(schemas(
        CreateWebhookEndpointRequest,
        UpdateWebhookEndpointRequest,
        WebhookEndpointResponse,
        WebhookEndpointWithSecret,
        WebhookAttemptResponse,
        DisabledReason
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhook-endpoints")
            .route(web::post().to(create_endpoint))
            .route(web::get().to(list_endpoints)),
    )
    .service(
        web::resource("/webhook-endpoints/{id}")
            .route(web::get().to(get_endpoint))
            .route(web::patch().to(update_endpoint))
            .route(web::delete().to(delete_endpoint)),
    )
    .service(
        web::resource("/webhook-endpoints/{id}/rotate-secret").route(web::post().to(rotate_secret)),
    )
    .service(
        web::resource("/webhook-endpoints/{id}/deliveries").route(web::get().to(list_deliveries)),
    );
}

fn parse_url(state: &AppState, raw: &str, errors: &mut FieldErrors) -> Option<WebhookUrl> {
    errors.check(
        "url",
        WebhookUrl::parse(raw, state.settings.webhooks.allow_http),
    )
}

fn parse_description(raw: Option<String>, errors: &mut FieldErrors) -> Option<Option<String>> {
    match raw {
        None => Some(None),
        Some(d) => errors
            .check("description", text::WEBHOOK_DESCRIPTION.parse(&d))
            .map(|d| Some(d).filter(|d| !d.is_empty())),
    }
}

/// Register an endpoint to receive events as signed `POST`s.
///
/// The answer carries the signing secret, shown only this once. The URL must be `https://` and
/// resolve to public addresses only: loopback, private, link-local (cloud metadata), CGNAT and
/// other internal addresses are refused with 422 (`forbidden_address`), and the address is checked
/// again at each delivery. An account may have 10 endpoints, and have
/// `WEBHOOK_URL_CHECKS_PER_USER_PER_HOUR` (60) URLs checked an hour, changes included (429 beyond).
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", operation_id = "createWebhookEndpoint",
    security(("bearer" = [])),
    request_body = CreateWebhookEndpointRequest,
    responses(
        (status = 201, description = "Created; the only answer that shows the secret", body = WebhookEndpointWithSecret,
            headers(("Location" = String, description = "URL of the new endpoint"), ("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 409, response = docs::Conflict),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_endpoint(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateWebhookEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let url = parse_url(&state, &body.url, &mut errors);
    let events = errors.check("events", parse_events(&body.events));
    let description = parse_description(body.description, &mut errors);
    errors.into_result()?;
    let (Some(url), Some(events), Some(description)) = (url, events, description) else {
        return Err(anyhow::anyhow!("a parsed webhook endpoint lost a field").into());
    };
    state.creation_limits.webhook_url_checks.check(&caller.id)?;
    let request = NewEndpointRequest {
        url,
        events,
        description,
    };
    let row = app::create(&state.pool, state.webhooks.resolver(), caller.id, request).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/webhook-endpoints/{}", row.id),
        ))
        .insert_header(etag(row.version))
        .json(WebhookEndpointWithSecret::from(&row)))
}

/// Your webhook endpoints, newest first. Secrets are never listed.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", operation_id = "listWebhookEndpoints",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of endpoints", body = Page<WebhookEndpointResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_endpoints(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?
        .map(|c| WebhookEndpointId::from_uuid(c.i));
    let mut conn = db::connection(&state.pool).await?;
    let rows = queries::list(&mut conn, caller.id, before, limit + 1).await?;
    let (rows, next_cursor) =
        pagination::page(rows, limit, |r| pagination::IdCursor { i: r.id.into() });
    Ok(HttpResponse::Ok().json(Page {
        data: rows
            .iter()
            .map(WebhookEndpointResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}

/// One of your endpoints (without its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", operation_id = "getWebhookEndpoint",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_endpoint(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<WebhookEndpointId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = queries::find(&mut conn, caller.id, id.into_inner().0)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(WebhookEndpointResponse::from(&row)))
}

/// Change an endpoint: its URL (checked as at creation), events, description, or whether it
/// receives anything. Enabling an endpoint the server disabled for failing starts deliveries again
/// from the next event.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", operation_id = "updateWebhookEndpoint",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = UpdateWebhookEndpointRequest,
    responses(
        (status = 200, description = "Updated", body = WebhookEndpointResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn update_endpoint(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<WebhookEndpointId>>,
    if_match: IfMatch,
    body: Json<UpdateWebhookEndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = FieldErrors::new();
    let url = body.url.and_then(|u| parse_url(&state, &u, &mut errors));
    let events = body
        .events
        .and_then(|e| errors.check("events", parse_events(&e)));
    let description = match body.description {
        None => None,
        Some(d) => parse_description(d, &mut errors),
    };
    errors.into_result()?;
    if url.is_some() {
        state.creation_limits.webhook_url_checks.check(&caller.id)?;
    }
    let patch = EndpointPatch {
        url,
        events,
        description,
        enabled: body.enabled,
    };
    let row = app::update(
        &state.pool,
        state.webhooks.resolver(),
        caller.id,
        id.into_inner().0,
        patch,
        if_match.0,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(WebhookEndpointResponse::from(&row)))
}

/// Delete an endpoint; deliveries not yet made are dropped with it.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", operation_id = "deleteWebhookEndpoint",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
    ))]
async fn delete_endpoint(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<WebhookEndpointId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    app::delete(&mut conn, caller.id, id.into_inner().0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the signing secret. The answer shows the new one; the old one keeps signing alongside it
/// for 24 hours (each delivery then carries two `v1=` signatures), so receivers can switch without
/// missing a delivery. One rotation at a time: during those 24 hours another is 409
/// `rotation_in_progress` (a leaked secret: delete the endpoint and create a new one).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", operation_id = "rotateWebhookSecret",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = WebhookEndpointWithSecret, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
    ))]
async fn rotate_secret(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<WebhookEndpointId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = app::rotate_secret(&mut conn, caller.id, id.into_inner().0).await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(WebhookEndpointWithSecret::from(&row)))
}

/// The endpoint's delivery attempts, newest first: each with the receiver's status code, the
/// latency, and the first kilobyte of its answer.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks", operation_id = "listWebhookDeliveries",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Endpoint id"), PageQuery),
    responses(
        (status = 200, description = "A page of attempts", body = Page<WebhookAttemptResponse>),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 404, response = docs::NotFound),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn list_deliveries(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<WebhookEndpointId>>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before = pagination::decode_opt::<pagination::IdCursor>(q.cursor.as_deref())?.map(|c| c.i);
    let mut conn = db::connection(&state.pool).await?;
    let endpoint = queries::find(&mut conn, caller.id, id.into_inner().0)
        .await?
        .ok_or(ApiError::NotFound("webhook endpoint"))?;
    let rows = queries::attempts(&mut conn, endpoint.id, before, limit + 1).await?;
    let (rows, next_cursor) = pagination::page(rows, limit, |r| pagination::IdCursor { i: r.id });
    Ok(HttpResponse::Ok().json(Page {
        data: rows
            .into_iter()
            .map(WebhookAttemptResponse::from)
            .collect::<Vec<_>>(),
        next_cursor,
    }))
}
