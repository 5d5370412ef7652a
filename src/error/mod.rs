//! The one error type, shared by the layers (use cases return it, handlers render it), and its mapping
//! including the framework's own (bad JSON, unknown route, wrong method, body too large), leaves the
//! server as `application/problem+json` through this module.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db;
use crate::domain::order::OrderStatus;

mod fields;

pub use fields::*;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// RFC 9457 problem details, with a stable `code` and, for validation failures, `errors`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/invalid-transition",
    "title": "Transition not allowed",
    "status": 409,
    "detail": "An order in status `new` cannot move to `completed`.",
    "code": "invalid_transition",
    "current_status": "new",
    "allowed_transitions": ["cancelled"]
}))]
pub struct ProblemDetails {
    /// Stable URI reference of the kind of problem, relative to the API's base URL.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The kind of problem in snake_case, for programs that switch on it.
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On order conflicts: the order's status when the request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<OrderStatus>,
    /// On order conflicts: the moves the caller may make from `current_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_transitions: Option<Vec<OrderStatus>>,
    /// On 412: the resource's current version, to retry with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("malformed request: {detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict {
        code: &'static str,
        title: &'static str,
        detail: String,
    },
    #[error("invalid transition: {detail}")]
    InvalidTransition {
        code: &'static str,
        detail: String,
        current_status: OrderStatus,
        allowed: Vec<OrderStatus>,
    },
    #[error("stale If-Match")]
    PreconditionFailed { current_version: i64 },
    /// A write that must name the version it was based on came without `If-Match`.
    #[error("If-Match required")]
    PreconditionRequired,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("request body too slow")]
    RequestTimeout,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A bounded queue (password hashing) is full: 503 with `Retry-After`.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Unavailable(#[from] db::Unavailable),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            title,
            detail: detail.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict { code, .. } => code,
            ApiError::InvalidTransition { code, .. } => code,
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PreconditionRequired => "precondition_required",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Busy { .. } => "busy",
            ApiError::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "The request is invalid",
            ApiError::BadRequest { .. } => "Malformed request",
            ApiError::Unauthorized(_) => "Authentication required",
            ApiError::Forbidden { .. } => "Not allowed",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed => "Method not allowed",
            ApiError::Conflict { title, .. } => title,
            ApiError::InvalidTransition { .. } => "Transition not allowed",
            ApiError::PreconditionFailed { .. } => "The resource has changed",
            ApiError::PreconditionRequired => "If-Match required",
            ApiError::PayloadTooLarge => "Request body too large",
            ApiError::RequestTimeout => "Request body too slow",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::RateLimited { .. } => "Too many requests",
            ApiError::Busy { .. } => "Server busy",
            ApiError::RangeNotSatisfiable { .. } => "Range not satisfiable",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => format!(
                "{} field{} failed validation; see `errors`.",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            ApiError::BadRequest { detail, .. }
            | ApiError::Forbidden { detail, .. }
            | ApiError::Conflict { detail, .. }
            | ApiError::InvalidTransition { detail, .. } => detail.clone(),
            ApiError::Unauthorized(detail) => detail.to_string(),
            ApiError::NotFound("route") => "No route matches this path.".into(),
            ApiError::NotFound(what) => format!("No such {what}, or it is not visible to you."),
            ApiError::MethodNotAllowed => {
                "This resource does not support that HTTP method.".into()
            }
            ApiError::PreconditionFailed { current_version } => format!(
                "If-Match does not match the current version {current_version}; fetch the resource and retry."
            ),
            ApiError::PreconditionRequired => {
                "Send `If-Match` with the version you read (its `ETag`), e.g. `If-Match: \"3\"`.".into()
            }
            ApiError::PayloadTooLarge => "The request body exceeds the size limit.".into(),
            ApiError::RequestTimeout => {
                "The request body did not arrive in time; send it again.".into()
            }
            ApiError::UnsupportedMediaType => {
                "Send the request body as `Content-Type: application/json` (a file upload as `multipart/form-data`).".into()
            }
            ApiError::RangeNotSatisfiable { size } => {
                format!("The range lies past the end of the file ({size} bytes).")
            }
            ApiError::Busy { retry_after_secs } => format!(
                "The server is busy with work of this kind; retry after {retry_after_secs} seconds."
            ),
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many attempts; retry after {retry_after_secs} seconds.")
            }
            ApiError::Unavailable(_) => {
                "A dependency (the database) is unavailable; retry shortly.".into()
            }
            ApiError::Internal(_) => {
                "An unexpected error occurred; it has been logged with this request's id.".into()
            }
        }
    }

    pub fn to_problem(&self) -> ProblemDetails {
        let code = self.code();
        let mut problem = ProblemDetails {
            type_: format!("/problems/{}", code.replace('_', "-")),
            title: self.title().to_string(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: code.to_string(),
            errors: Vec::new(),
            current_status: None,
            allowed_transitions: None,
            current_version: None,
        };
        match self {
            ApiError::Validation(errors) => problem.errors = errors.clone(),
            ApiError::InvalidTransition {
                current_status,
                allowed,
                ..
            } => {
                problem.current_status = Some(*current_status);
                problem.allowed_transitions = Some(allowed.clone());
            }
            ApiError::PreconditionFailed { current_version } => {
                problem.current_version = Some(*current_version);
            }
            _ => {}
        }
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } | ApiError::InvalidTransition { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The one place the cause chain is logged; it runs inside the request's span, so the line
        // carries the request id.
        match self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "request failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::RangeNotSatisfiable { size } => {
                response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&self.to_problem()).unwrap_or_default())
    }
}

impl From<crate::auth::password::HashingError> for ApiError {
    fn from(e: crate::auth::password::HashingError) -> Self {
        match e {
            crate::auth::password::HashingError::Busy(_) => ApiError::Busy {
                retry_after_secs: 1,
            },
            crate::auth::password::HashingError::Failed(e) => ApiError::Internal(e),
        }
    }
}

/// Maps the constraint a write tripped over to the client's mistake it reports. Kept in one place so
/// that every handler answers the same conflict the same way.
fn constraint_error(constraint: &str) -> Option<ApiError> {
    Some(match constraint {
        "users_email_key" => ApiError::conflict(
            "email_taken",
            "Email already registered",
            "An account with this email already exists.",
        ),
        "cancellation_requests_one_pending" => ApiError::conflict(
            "cancellation_request_pending",
            "A cancellation request is already open",
            "This order already has a pending cancellation request.",
        ),
        "orders_not_self" => ApiError::validation(
            "creative_id",
            "self_order",
            "You cannot order from yourself.",
        ),
        "reviews_one_per_author" => ApiError::conflict(
            "already_reviewed",
            "Already reviewed",
            "You have reviewed this order already; a review is never edited.",
        ),
        "payment_terms_order_version" => ApiError::conflict(
            "concurrent_proposal",
            "Terms changed",
            "Another proposal was made at the same moment; fetch the terms and try again.",
        ),
        _ => return None,
    })
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if let Error::DatabaseError(kind, info) = &e {
            if let Some(mapped) = info.constraint_name().and_then(constraint_error) {
                return mapped;
            }
            if matches!(kind, DatabaseErrorKind::ClosedConnection) {
                return ApiError::Unavailable(db::Unavailable(info.message().to_string()));
            }
            // Text PostgreSQL cannot store (a NUL byte): the client's data, not our bug. Fields are
            // validated before they get here; this is the net under that.
            if info.message().contains("invalid byte sequence") {
                return ApiError::bad_request(
                    "invalid_characters",
                    "The request contains characters that cannot be stored (such as NUL).",
                );
            }
            // Lost a race inside PostgreSQL: the client may simply retry.
            if matches!(kind, DatabaseErrorKind::SerializationFailure)
                || info.message().contains("deadlock detected")
            {
                return ApiError::conflict(
                    "concurrent_update",
                    "Concurrent update",
                    "Another request changed the same data at the same time; retry.",
                );
            }
        }
        ApiError::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

/// Turns domain refusals of a field into a 422.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_type_is_derived_from_the_code() {
        let p = ApiError::NotFound("order").to_problem();
        assert_eq!(p.type_, "/problems/not-found");
        assert_eq!(p.status, 404);
        assert_eq!(p.code, "not_found");
    }

    #[test]
    fn internal_errors_say_nothing_internal() {
        let e = ApiError::Internal(anyhow::anyhow!("password=hunter2 in SQL"));
        let p = e.to_problem();
        assert!(!p.detail.contains("hunter2"));
        assert_eq!(p.status, 500);
    }

    #[test]
    fn unique_email_violation_is_a_conflict() {
        let e = constraint_error("users_email_key").unwrap();
        assert_eq!(e.status_code(), StatusCode::CONFLICT);
        assert!(constraint_error("something_else").is_none());
    }
}
