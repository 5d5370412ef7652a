//! Verifying the account's email address: the link mailed at registration carries a token.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::app;
use crate::auth::secret;
use crate::db;
use crate::http::auth_user::AuthUser;
use crate::http::docs;
use crate::http::error::ApiError;
use crate::http::extract::Json;
use crate::http::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Zk3u1m0QhPq8c2rY6vW9xT4bN7aL5sD0eF1gH2iJ3kM"}))]
pub struct VerifyEmailRequest {
    /// The token from the verification link.
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    token: String,
}

/// Verify the account's email address with the token from the mailed link.
///
/// Needs no login: the token is the proof. A token works once, for 48 hours, and only while the
/// account's address is still the one it was sent to.
#[utoipa::path(post, path = "/v1/auth/verify-email", tag = "auth", operation_id = "verifyEmail",
    request_body = VerifyEmailRequest,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, response = docs::BadRequest),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn verify_email(
    state: web::Data<AppState>,
    body: Json<VerifyEmailRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.token;
    let invalid = || {
        ApiError::validation(
            "token",
            "invalid_token",
            "The verification token is invalid, expired or already used; ask for a new one.",
        )
    };
    let mut conn = db::connection(&state.pool).await?;
    app::accounts::verify_email(&mut conn, &secret::digest(&token))
        .await?
        .ok_or_else(invalid)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send the verification mail again.
///
/// 202 when a new link is on its way; 204 when the address is verified already. Limited to
/// `VERIFICATION_EMAILS_PER_USER_PER_HOUR` (5) an hour: 429 with `Retry-After` beyond.
#[utoipa::path(post, path = "/v1/auth/verify-email/resend", tag = "auth", operation_id = "resendVerificationEmail",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new verification link is on its way"),
        (status = 204, description = "The address is verified already; nothing was sent"),
        (status = 401, response = docs::Unauthorized),
        (status = 429, response = docs::RateLimited),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn resend_verification(
    state: web::Data<AppState>,
    caller: AuthUser,
) -> Result<HttpResponse, ApiError> {
    if caller.email_verified {
        return Ok(HttpResponse::NoContent().finish());
    }
    state
        .creation_limits
        .verification_emails
        .check(&caller.id)?;
    let mut conn = db::connection(&state.pool).await?;
    if app::accounts::resend_verification(&mut conn, caller.id).await? {
        Ok(HttpResponse::Accepted().finish())
    } else {
        Ok(HttpResponse::NoContent().finish())
    }
}
