//! Password reset: ask for a token by email, then set a new password with it.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::app;
use crate::auth::secret;
use crate::db::{self, users};
use crate::domain::account::{Email, NewPassword};
use crate::http::docs;
use crate::http::error::{invalid_field, ApiError};
use crate::http::extract::Json;
use crate::http::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct PasswordResetRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(format = Email, min_length = 1, max_length = 254)]
    email: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "Zk3u1m0QhPq8c2rY6vW9xT4bN7aL5sD0eF1gH2iJ3kM", "password": "a brand new passphrase"}))]
pub struct PasswordResetConfirmation {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    token: String,
    /// 10 to 128 characters, not the account's email.
    #[schema(min_length = 10, max_length = 128, format = Password)]
    password: String,
}

/// Ask for a password reset.
///
/// Always 202, whether or not an account has this email. When one has, a single-use token valid for
/// 30 minutes is sent to it (an `user.password_reset_requested` event for the notifications system).
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", operation_id = "requestPasswordReset",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a reset token is on its way"),
        (status = 400, response = docs::BadRequest),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn request_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    // A malformed address is the caller's mistake and says nothing about any account.
    let email = Email::parse(&body.0.email).map_err(|e| invalid_field("email", e))?;
    // Counted whether or not the account exists, so the 429 reveals nothing either.
    state
        .reset_limiter
        .check(state.client_ip(&req), email.as_str())?;
    let mut conn = db::connection(&state.pool).await?;
    let issued = app::accounts::request_password_reset(&mut conn, &email).await?;
    if let Some(token) = issued.filter(|_| state.settings.log_reset_tokens) {
        tracing::info!(email = %email.as_str(), reset_token = %token, "password reset requested (token logged: LOG_RESET_TOKENS=true)");
    }
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with a reset token.
///
/// Uses the token up, with every other reset token of the account, and ends every session of the
/// account: its refresh tokens and its access tokens stop working at once.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth", operation_id = "confirmPasswordReset",
    request_body = PasswordResetConfirmation,
    responses(
        (status = 204, description = "Password changed; all sessions revoked"),
        (status = 400, response = docs::BadRequest),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn confirm_password_reset(
    state: web::Data<AppState>,
    body: Json<PasswordResetConfirmation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let hash = secret::digest(&body.token);
    let invalid_token = || {
        ApiError::validation(
            "token",
            "invalid_token",
            "The reset token is invalid, expired or already used.",
        )
    };
    // Look the token up, let the connection go while Argon2 runs, then use the token up.
    let user = {
        let mut conn = db::connection(&state.pool).await?;
        match users::reset_token_user(&mut conn, &hash).await? {
            Some(id) => users::find(&mut conn, id).await?,
            None => None,
        }
    }
    .ok_or_else(invalid_token)?;
    let email =
        Email::parse(&user.email).map_err(|e| anyhow::anyhow!("stored email invalid: {e}"))?;
    let new_password =
        NewPassword::parse(&body.password, &email).map_err(|e| invalid_field("password", e))?;
    let password_hash = state.hashing.hash(new_password).await?;
    let mut conn = db::connection(&state.pool).await?;
    app::accounts::reset_password(&mut conn, &hash, &password_hash)
        .await?
        .ok_or_else(invalid_token)?;
    Ok(HttpResponse::NoContent().finish())
}
