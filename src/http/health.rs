//! Liveness and readiness probes, outside `/v1`.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::docs;
use super::error::ApiError;
use super::state::AppState;
use crate::db;

#[derive(OpenApi)]
#[openapi(paths(healthz, readyz), components(schemas(HealthStatus)))]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)));
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct HealthStatus {
    /// `ok` for liveness, `ready` for readiness.
    status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "getHealth",
    responses((status = 200, description = "The process is up", body = HealthStatus)))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// The process can serve requests: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "getReadiness",
    responses(
        (status = 200, description = "Ready", body = HealthStatus, example = json!({"status": "ready"})),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    db::ping(&mut conn).await?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ready" }))
}
