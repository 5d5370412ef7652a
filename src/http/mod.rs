//! The HTTP layer: routing, extractors, handlers and the OpenAPI document. Handlers turn requests
//! into domain values, call `db` queries (composed in transactions) and map results to responses.

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod auth_user;
pub mod client_ip;
pub mod dashboard;
pub mod docs;
mod docs_finish;
pub mod events;
/// The one error type, shared by every layer; its problem+json rendering lives with it.
pub use crate::error;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod invoices;
pub mod me;
pub mod money;
pub mod notifications;
pub mod orders;
pub mod pagination;
pub mod payments;
pub mod rate_limit;
pub mod request_id;
pub mod reviews;
mod schemas;
pub mod services;
pub mod state;
pub mod support;
pub mod webhooks;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpResponse, ResponseError};
use utoipa_swagger_ui::{Config, SwaggerUi};

const OPENAPI_PATH: &str = "/api-docs/openapi.json";

use error::{ApiError, PROBLEM_JSON};

/// Every route of the service. Shared by `serve` and the tests, so tests exercise the real router.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(extract::path_error))
        .app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .configure(health::routes)
        .service(
            web::scope("/v1")
                .configure(auth::routes)
                .configure(me::routes)
                .configure(services::routes)
                .configure(orders::routes)
                .configure(orders::transitions::routes)
                .configure(orders::cancellations::routes)
                .configure(orders::messages::routes)
                .configure(orders::deliveries::routes)
                .configure(orders::payment_terms::routes)
                .configure(invoices::routes)
                .configure(reviews::routes)
                .configure(attachments::routes)
                .configure(dashboard::routes)
                .configure(notifications::routes)
                .configure(support::routes)
                .configure(payments::routes)
                .configure(events::routes)
                .configure(webhooks::routes)
                .configure(admin::routes),
        )
        .service(web::resource("/swagger-ui").route(web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/swagger-ui/"))
                .finish()
        })))
        .service(web::resource(OPENAPI_PATH).route(web::get().to(
            |state: web::Data<state::AppState>| async move {
                HttpResponse::Ok().json(docs::served_for(
                    &state.settings.notifications.support_email,
                ))
            },
        )))
        .service(SwaggerUi::new("/swagger-ui/{_:.*}").config(Config::from(OPENAPI_PATH)))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("route"))
        }));
}

/// Rewrites any error response that is not already problem+json (actix's own 404/405/413, a
/// middleware's refusal) into problem+json, so clients parse every error one way.
pub fn problemize<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let error = match res.status() {
        StatusCode::NOT_FOUND => ApiError::NotFound("route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        StatusCode::UNAUTHORIZED => {
            ApiError::Unauthorized("A valid bearer access token is required.")
        }
        StatusCode::BAD_REQUEST if is_cors_preflight(res.request()) => ApiError::bad_request(
            "cors_refused",
            "This origin, method or header is not allowed by the CORS policy.",
        ),
        s if s.is_client_error() => {
            ApiError::bad_request("malformed_request", "The request could not be processed.")
        }
        _ => ApiError::Internal(anyhow::anyhow!("unhandled error response {}", res.status())),
    };
    let (req, original) = res.into_parts();
    let mut replacement: HttpResponse<BoxBody> = error.error_response();
    // Keep what the original said besides its body (Allow, CORS headers, …).
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    let res = ServiceResponse::new(req, replacement).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// After a write that succeeded, wakes the notification workers: its transaction has committed by
/// the time the response exists, so the `NOTIFY` this may send is never inside it. A write that
/// wrote no event costs one empty worker round, which is cheaper than tracking which ones did.
pub async fn wake_after_writes(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> actix_web::Result<ServiceResponse<BoxBody>> {
    let write = !matches!(
        *req.method(),
        actix_web::http::Method::GET
            | actix_web::http::Method::HEAD
            | actix_web::http::Method::OPTIONS
    );
    let signal = req
        .app_data::<web::Data<state::AppState>>()
        .map(|s| s.signal.clone());
    let res = next.call(req).await?.map_into_boxed_body();
    if write && res.status().is_success() {
        if let Some(signal) = signal {
            signal.poke();
        }
    }
    Ok(res)
}

/// Headers every response carries: no MIME sniffing, no referrer leaking ids in URLs, and no caching
/// of API responses (they are per caller, and most carry someone's data). The documentation pages
/// are the exception to the last: they are static and public.
pub async fn security_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> actix_web::Result<ServiceResponse<BoxBody>> {
    let cacheable = req.path().starts_with("/swagger-ui");
    // Handlers' errors arrive here as responses already; converting a middleware's `Err` would
    // need a clone of the request, which actix forbids while the request is in flight.
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    if !cacheable {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(res)
}

fn is_cors_preflight(req: &actix_web::HttpRequest) -> bool {
    req.method() == actix_web::http::Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

pub type ProblemBody<B> = EitherBody<B, BoxBody>;
