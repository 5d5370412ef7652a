//! Services: what creatives offer. The catalogue is public; only a service's creative may change it.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::auth_user::AuthUser;
use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::{etag, integer, optional_integer, IfMatch, Json, StrictUuid};
use super::money::MoneyDto;
use super::schemas;
use super::state::AppState;
use crate::db::{self, services, Update};
use crate::domain::ids::ServiceId;
use crate::domain::text;
use crate::http::reviews::RatingSummary;

mod list;

#[derive(OpenApi)]
#[openapi(
    paths(
        create_service,
        list::list_services,
        get_service,
        update_service,
        archive_service
    ),
    components(schemas(
        CreateServiceRequest,
        UpdateServiceRequest,
        ServiceResponse,
        MoneyDto,
        list::ServiceSort
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/services")
            .route(web::post().to(create_service))
            .route(web::get().to(list::list_services)),
    )
    .service(
        web::resource("/services/{id}")
            .route(web::get().to(get_service))
            .route(web::patch().to(update_service)),
    )
    .service(web::resource("/services/{id}/archive").route(web::post().to(archive_service)));
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Logo design", "description": "Three concepts, vector files.",
    "price": {"amount": 15000, "currency": "EUR"}, "delivery_days": 7, "revisions_included": 2}))]
pub struct CreateServiceRequest {
    #[schema(schema_with = schemas::title)]
    title: String,
    #[schema(schema_with = schemas::description)]
    description: String,
    price: MoneyDto,
    /// 1 to 365.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    #[serde(deserialize_with = "integer")]
    delivery_days: i32,
    /// 0 to 100.
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "integer")]
    revisions_included: i32,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"price": {"amount": 18000, "currency": "EUR"}, "delivery_days": 5}))]
pub struct UpdateServiceRequest {
    #[schema(schema_with = schemas::title_or_null)]
    title: Option<String>,
    #[schema(schema_with = schemas::description_or_null)]
    description: Option<String>,
    price: Option<MoneyDto>,
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    #[serde(default, deserialize_with = "optional_integer")]
    delivery_days: Option<i32>,
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, deserialize_with = "optional_integer")]
    revisions_included: Option<i32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e02", "creative_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01",
    "title": "Logo design", "description": "Three concepts, vector files.", "price": {"amount": 15000, "currency": "EUR"},
    "delivery_days": 7, "revisions_included": 2, "archived_at": null, "version": 1,
    "created_at": "2026-11-28T15:12:52Z", "updated_at": "2026-11-28T15:12:52Z",
    "rating": {"average": 4.9, "count": 212, "score": 4.86}}))]
pub struct ServiceResponse {
    pub id: Uuid,
    pub creative_id: Uuid,
    pub title: String,
    pub description: String,
    pub price: MoneyDto,
    pub delivery_days: i32,
    pub revisions_included: i32,
    /// Set once the creative archived it; existing orders keep their snapshot.
    pub archived_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The creative's rating from their clients' published reviews.
    pub rating: RatingSummary,
}

impl ServiceResponse {
    pub fn rated(r: services::ServiceRow, rating: RatingSummary) -> Self {
        ServiceResponse {
            rating,
            id: r.id.into(),
            creative_id: r.creative_id.into(),
            title: r.title,
            description: r.description,
            price: MoneyDto::from_parts(r.price_amount, &r.price_currency),
            delivery_days: r.delivery_days,
            revisions_included: r.revisions_included,
            archived_at: r.archived_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One service with its creative's rating.
async fn rendered(
    conn: &mut diesel_async::AsyncPgConnection,
    row: services::ServiceRow,
) -> Result<ServiceResponse, ApiError> {
    Ok(list::with_ratings(conn, vec![row])
        .await?
        .pop()
        .unwrap_or_else(|| unreachable!("one row in, one response out")))
}

fn parse_description(raw: &str) -> Result<String, crate::domain::Invalid> {
    text::DESCRIPTION.parse(raw)
}

/// Offer a service (the caller becomes its creative).
///
/// Each user may create `SERVICES_PER_USER_PER_HOUR` (20) services an hour; beyond that, 429 with
/// `Retry-After`.
#[utoipa::path(post, path = "/v1/services", tag = "services", operation_id = "createService",
    security(("bearer" = [])),
    request_body = CreateServiceRequest,
    responses(
        (status = 201, description = "Created", body = ServiceResponse,
            headers(("Location" = String, description = "URL of the new service"), ("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::EmailUnverified),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
async fn create_service(
    state: web::Data<AppState>,
    caller: AuthUser,
    body: Json<CreateServiceRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_verified(&state)?;
    state.creation_limits.services.check(&caller.id)?;
    let body = body.0;
    let mut errors = FieldErrors::new();
    let title = errors.check("title", text::title(&body.title));
    let description = errors.check("description", parse_description(&body.description));
    let price = body.price.parse_price("price", &mut errors);
    errors.into_result()?;
    let (Some(title), Some(description), Some(price)) = (title, description, price) else {
        unreachable!("validated above")
    };
    let mut conn = db::connection(&state.pool).await?;
    let row = services::insert(
        &mut conn,
        services::NewService {
            id: ServiceId::new(),
            creative_id: caller.id,
            title,
            description,
            price_amount: price.amount(),
            price_currency: price.currency().code().to_string(),
            delivery_days: body.delivery_days,
            revisions_included: body.revisions_included,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/services/{}", row.id)))
        .insert_header(etag(row.version))
        .json(rendered(&mut conn, row).await?))
}

/// One service, archived ones included.
#[utoipa::path(get, path = "/v1/services/{id}", tag = "services", operation_id = "getService",
    params(("id" = Uuid, Path, description = "Service id")),
    responses(
        (status = 200, description = "The service", body = ServiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 404, response = docs::NotFound),
    ))]
async fn get_service(
    state: web::Data<AppState>,
    id: web::Path<StrictUuid<ServiceId>>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let row = services::find(&mut conn, id.into_inner().0)
        .await?
        .ok_or(ApiError::NotFound("service"))?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(rendered(&mut conn, row).await?))
}

/// Loads a service the caller wants to change: 404 if absent, 403 if not theirs, 409 if archived.
async fn owned_active_service(
    conn: &mut diesel_async::AsyncPgConnection,
    id: ServiceId,
    caller: &AuthUser,
) -> Result<services::ServiceRow, ApiError> {
    let row = services::find(conn, id)
        .await?
        .ok_or(ApiError::NotFound("service"))?;
    if row.creative_id != caller.id {
        return Err(ApiError::Forbidden {
            code: "not_owner",
            detail: "Only the service's creative may change it.".into(),
        });
    }
    if row.archived_at.is_some() {
        return Err(ApiError::conflict(
            "service_archived",
            "Service archived",
            "This service is archived and can no longer be changed.",
        ));
    }
    Ok(row)
}

/// Change a service (its creative only). Orders already placed keep their snapshot.
#[utoipa::path(patch, path = "/v1/services/{id}", tag = "services", operation_id = "updateService",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service id"),
        ("If-Match" = Option<String>, Header, description = "The version last seen, e.g. `\"1\"`", pattern = r#"^(W/)?"[0-9]+"$|^\*$"#)),
    request_body = UpdateServiceRequest,
    responses(
        (status = 200, description = "Updated", body = ServiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
        (status = 412, response = docs::PreconditionFailed),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
async fn update_service(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<ServiceId>>,
    if_match: IfMatch,
    body: Json<UpdateServiceRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let body = body.0;
    let mut errors = FieldErrors::new();
    let title = body
        .title
        .and_then(|t| errors.check("title", text::title(&t)));
    let description = body
        .description
        .and_then(|d| errors.check("description", parse_description(&d)));
    let price = body.price.and_then(|p| p.parse_price("price", &mut errors));
    errors.into_result()?;
    let mut conn = db::connection(&state.pool).await?;
    owned_active_service(&mut conn, id, &caller).await?;
    let changes = services::ServiceChanges {
        title,
        description,
        price_amount: price.map(|p| p.amount()),
        price_currency: price.map(|p| p.currency().code().to_string()),
        delivery_days: body.delivery_days,
        revisions_included: body.revisions_included,
    };
    match services::update(&mut conn, id, caller.id, changes, if_match.0).await? {
        Update::Updated(row) => Ok(HttpResponse::Ok()
            .insert_header(etag(row.version))
            .json(rendered(&mut conn, row).await?)),
        Update::Stale(current_version) => Err(ApiError::PreconditionFailed { current_version }),
        Update::NotFound => Err(ApiError::NotFound("service")),
    }
}

/// Archive a service (its creative only): it leaves the catalogue and can no longer be ordered, but
/// stays readable by id, since orders placed from it point at it and keep their snapshot. Archiving
/// is a state change, so it is a `POST` and not a `DELETE`: nothing is deleted.
#[utoipa::path(post, path = "/v1/services/{id}/archive", tag = "services", operation_id = "archiveService",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service id")),
    responses(
        (status = 200, description = "The archived service", body = ServiceResponse, headers(("ETag" = String))),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 403, response = docs::Forbidden),
        (status = 404, response = docs::NotFound),
        (status = 409, response = docs::Conflict),
    ))]
async fn archive_service(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<StrictUuid<ServiceId>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().0;
    let mut conn = db::connection(&state.pool).await?;
    owned_active_service(&mut conn, id, &caller).await?;
    // Archived by a concurrent request between the check and the update.
    let row = services::archive(&mut conn, id, caller.id)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "service_archived",
                "Service archived",
                "This service is archived and can no longer be changed.",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(row.version))
        .json(rendered(&mut conn, row).await?))
}
