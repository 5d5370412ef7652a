//! Registration, login, token refresh (with reuse detection), logout and password reset.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use validator::Validate;

use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::Json;
use super::me::UserResponse;
use super::schemas;
use super::state::AppState;
use crate::app;
use crate::db::{self, users};
use crate::domain::account::{DisplayName, Email, NewPassword};
use crate::domain::ids::UserId;

mod reset;
mod verify;

use reset::{PasswordResetConfirmation, PasswordResetRequest};

#[derive(OpenApi)]
#[openapi(
    paths(
        register,
        login,
        refresh,
        logout,
        reset::request_password_reset,
        reset::confirm_password_reset,
        verify::verify_email,
        verify::resend_verification
    ),
    components(schemas(
        RegisterRequest,
        LoginRequest,
        TokenResponse,
        RefreshRequest,
        PasswordResetRequest,
        PasswordResetConfirmation,
        verify::VerifyEmailRequest
    ))
)]
pub struct Api;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(register)))
        .service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(
            web::resource("/auth/password-reset")
                .route(web::post().to(reset::request_password_reset)),
        )
        .service(
            web::resource("/auth/password-reset/confirm")
                .route(web::post().to(reset::confirm_password_reset)),
        )
        .service(web::resource("/auth/verify-email").route(web::post().to(verify::verify_email)))
        .service(
            web::resource("/auth/verify-email/resend")
                .route(web::post().to(verify::resend_verification)),
        );
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";
const BAD_REFRESH: &str = "The refresh token is invalid, expired or already used.";

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "display_name": "Ada Lovelace"}))]
pub struct RegisterRequest {
    /// Trimmed and lower-cased before it is stored.
    #[schema(format = Email, min_length = 3, max_length = 254)]
    email: String,
    /// 10 to 128 characters, not the email.
    #[schema(min_length = 10, max_length = 128, format = Password)]
    password: String,
    #[schema(schema_with = schemas::display_name)]
    display_name: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    #[validate(length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[validate(length(max = 128))]
    #[schema(format = Password, max_length = 128)]
    password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6IjNmYTFjMiJ9.eyJzdWIiOiIwMTkzLi4uIn0.c2ln",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "q1V0oXk7m3cV3oZr9m2s9bqk4Xw8o6d4oJk1r0yZ5cA",
    "user": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "email": "ada@example.com",
             "display_name": "Ada Lovelace", "bio": null, "avatar_url": null, "time_zone": "UTC",
             "is_admin": false, "custom_orders": "anyone", "version": 1, "created_at": "2026-11-28T15:12:52Z",
             "updated_at": "2026-11-28T15:12:52Z"}
}))]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// Opaque, single-use; exchange it at `/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    pub user: UserResponse,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "q1V0oXk7m3cV3oZr9m2s9bqk4Xw8o6d4oJk1r0yZ5cA"}))]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    refresh_token: String,
}

impl TokenResponse {
    fn new(issued: app::sessions::Issued, state: &AppState) -> Self {
        TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer".into(),
            expires_in: state.keys.access_ttl().as_secs(),
            refresh_token: issued.refresh_token,
            user: issued.user.into(),
        }
    }
}

/// Create an account.
///
/// Returns the new user and a token pair, as login does.
///
/// An email that already has an account is a 409 `email_taken`: a deliberate choice. Registration
/// logs the caller in at once, and a client must be able to tell "use another address, or log in";
/// a uniform answer would need an email round-trip before the first login. What it reveals is
/// bounded by the per-client limit (`REGISTER_RATE_PER_IP_PER_MINUTE`, 5 a minute by default: 429
/// with `Retry-After`). Password reset, which needs no such answer, does answer uniformly.
///
/// Password hashing is deliberately costly and runs a few at a time; when its queue is full the
/// answer is 503 with `Retry-After`, at once, rather than a slow queue.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", operation_id = "register",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the caller is logged in", body = TokenResponse),
        (status = 400, response = docs::BadRequest),
        (status = 409, description = "An account with this email exists", body = crate::http::error::ProblemDetails,
            content_type = "application/problem+json",
            example = json!({"type": "/problems/email-taken", "title": "Email already registered", "status": 409,
                "detail": "An account with this email already exists.", "code": "email_taken"})),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
#[tracing::instrument(skip_all)]
async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    state.creation_limits.account(state.client_ip(&req))?;
    let body = body.0;
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&body.email));
    let display_name = errors.check("display_name", DisplayName::parse(&body.display_name));
    let password = match &email {
        Some(email) => errors.check("password", NewPassword::parse(&body.password, email)),
        None => None,
    };
    errors.into_result()?;
    let (Some(email), Some(display_name), Some(password)) = (email, display_name, password) else {
        unreachable!("FieldErrors::into_result returned Ok with a missing value")
    };
    let hash = state.hashing.hash(password).await?;
    let display_name = display_name.into_inner();
    let mut conn = db::connection(&state.pool).await?;
    let new = users::NewUser {
        id: UserId::new(),
        email: email.as_str(),
        password_hash: &hash,
        display_name: &display_name,
    };
    let issued = app::accounts::register(&mut conn, &state.keys, &state.settings.jwt, new).await?;
    let tokens = TokenResponse::new(issued, &state);
    tracing::info!(user_id = %tokens.user.id, "account registered");
    Ok(HttpResponse::Created().json(tokens))
}

/// Log in with email and password.
///
/// Attempts are limited per client (an IPv4 address or an IPv6 /64; behind `TRUSTED_PROXIES`, the
/// client `X-Forwarded-For` names) and per email from one client, so a guesser is slowed without
/// locking the account's owner out. 429 with `Retry-After` beyond either budget; 503 with
/// `Retry-After` when the password-hashing queue is full.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
        (status = 503, response = docs::ServiceUnavailable),
    ))]
#[tracing::instrument(skip_all)]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let normalised = body.email.trim().to_lowercase();
    state
        .login_limiter
        .check(state.client_ip(&req), &normalised)?;
    // An address that cannot be valid has no account; skip the query, not the password check.
    let user = match Email::parse(&normalised) {
        Ok(email) => {
            let mut conn = db::connection(&state.pool).await?;
            users::find_by_email(&mut conn, email.as_str()).await?
        }
        Err(_) => None,
    };
    // No pool connection is held while Argon2 runs. Verify even when there is no account, so both
    // cases take the same time.
    let valid = state
        .hashing
        .verify(
            user.as_ref().map(|u| u.password_hash.clone()),
            body.password,
        )
        .await?;
    let user = match user {
        Some(user) if valid && user.disabled_at.is_none() => user,
        _ => return Err(ApiError::Unauthorized(BAD_CREDENTIALS)),
    };
    let mut conn = db::connection(&state.pool).await?;
    let jwt = &state.settings.jwt;
    let issued = app::sessions::log_in(&mut conn, &state.keys, jwt, user)
        .await?
        .ok_or(ApiError::Unauthorized(BAD_CREDENTIALS))?;
    Ok(HttpResponse::Ok().json(TokenResponse::new(issued, &state)))
}

/// Exchange a refresh token for a new pair.
///
/// Each refresh token works once. Presenting one that was already used revokes its whole session
/// (theft detection), so both the thief and the victim must log in again; the one exception is a
/// retry within `REFRESH_GRACE` (30 s) of the refresh it repeats, whose answer may have been lost:
/// it gets the same new refresh token (and a fresh access token), as long as that one is unused.
/// A session lasts at most `SESSION_MAX_AGE` (90 days) from login, however often it is refreshed.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refreshToken",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the old refresh token is retired", body = TokenResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
#[tracing::instrument(skip_all)]
async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    let jwt = &state.settings.jwt;
    match app::sessions::refresh(&mut conn, &state.keys, jwt, &body.0.refresh_token).await? {
        Some(issued) => Ok(HttpResponse::Ok().json(TokenResponse::new(issued, &state))),
        None => Err(ApiError::Unauthorized(BAD_REFRESH)),
    }
}

/// Log out: revoke the session the refresh token belongs to.
///
/// Its access tokens stop working at once, not at their expiry. Always 204, also for unknown
/// tokens, so the call is safe to retry.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is revoked"),
        (status = 400, response = docs::BadRequest),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
    ))]
#[tracing::instrument(skip_all)]
async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = db::connection(&state.pool).await?;
    app::sessions::logout(&mut conn, &body.0.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
