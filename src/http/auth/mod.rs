//! Registration, login, token refresh (with reuse detection), logout and password reset.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::docs;
use super::error::{ApiError, FieldErrors};
use super::extract::Json;
use super::me::UserResponse;
use super::schemas;
use super::state::AppState;
use crate::auth::{password, secret};
use crate::db::{self, users};
use crate::domain::account::{DisplayName, Email, NewPassword};
use crate::domain::ids::UserId;

mod reset;

use reset::{PasswordResetConfirmation, PasswordResetRequest};

#[derive(OpenApi)]
#[openapi(
    paths(
        register,
        login,
        refresh,
        logout,
        reset::request_password_reset,
        reset::confirm_password_reset
    ),
    components(schemas(
        RegisterRequest,
        LoginRequest,
        TokenResponse,
        RefreshRequest,
        PasswordResetRequest,
        PasswordResetConfirmation
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
             "is_admin": false, "version": 1, "created_at": "2026-11-28T15:12:52Z",
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

/// Starts a session: a refresh token (new family unless rotating) and an access token.
async fn open_session(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    user: &users::UserRow,
    family: Option<Uuid>,
) -> Result<TokenResponse, ApiError> {
    let refresh_token = secret::generate();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(state.settings.jwt.refresh_ttl)
        .map_err(|e| anyhow::anyhow!("refresh ttl out of range: {e}"))?;
    users::insert_refresh_token(
        conn,
        users::NewRefreshToken {
            id: Uuid::now_v7(),
            family_id: family.unwrap_or_else(Uuid::now_v7),
            user_id: user.id,
            token_hash: secret::digest(&refresh_token),
            expires_at: now + ttl,
        },
    )
    .await?;
    let access_token = state.keys.issue(user.id, now.timestamp())?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: state.keys.access_ttl().as_secs(),
        refresh_token,
        user: user.clone().into(),
    })
}

/// Create an account.
///
/// Returns the new user and a token pair, as login does.
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
    ))]
#[tracing::instrument(skip_all)]
async fn register(
    state: web::Data<AppState>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
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
    let hash = password::hash(password).await?;
    let display_name = display_name.into_inner();
    let mut conn = db::connection(&state.pool).await?;
    let tokens = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let user = users::insert(
                conn,
                users::NewUser {
                    id: UserId::new(),
                    email: email.as_str(),
                    password_hash: &hash,
                    display_name: &display_name,
                },
            )
            .await?;
            open_session(conn, &state, &user, None).await
        })
        .await?;
    tracing::info!(user_id = %tokens.user.id, "account registered");
    Ok(HttpResponse::Created().json(tokens))
}

/// Log in with email and password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 400, response = docs::BadRequest),
        (status = 401, response = docs::Unauthorized),
        (status = 415, response = docs::UnsupportedMediaType),
        (status = 422, response = docs::ValidationFailed),
        (status = 429, response = docs::RateLimited),
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
        .check(req.peer_addr().map(|a| a.ip()), &normalised)?;
    let mut conn = db::connection(&state.pool).await?;
    // An address that cannot be valid has no account; skip the query, not the password check.
    let user = match Email::parse(&normalised) {
        Ok(email) => users::find_by_email(&mut conn, email.as_str()).await?,
        Err(_) => None,
    };
    // Verify even when there is no account, so both cases take the same time.
    let valid = password::verify(
        user.as_ref().map(|u| u.password_hash.clone()),
        body.password,
    )
    .await?;
    let user = match user {
        Some(user) if valid && user.disabled_at.is_none() => user,
        _ => return Err(ApiError::Unauthorized(BAD_CREDENTIALS)),
    };
    let tokens = open_session(&mut conn, &state, &user, None).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

enum RefreshOutcome {
    Rotated(Box<TokenResponse>),
    Refused,
}

/// Exchange a refresh token for a new pair.
///
/// Each refresh token works once. Presenting one that was already used revokes every token of its
/// login (theft detection), so both the thief and the victim must log in again.
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
    let hash = secret::digest(&body.0.refresh_token);
    let mut conn = db::connection(&state.pool).await?;
    let outcome = conn
        .transaction::<_, ApiError, _>(async |conn| {
            match users::consume_refresh_token(conn, &hash).await? {
                Some((user_id, family)) => match users::find(conn, user_id).await? {
                    Some(user) if user.disabled_at.is_none() => {
                        let tokens = open_session(conn, &state, &user, Some(family)).await?;
                        Ok(RefreshOutcome::Rotated(Box::new(tokens)))
                    }
                    _ => Ok(RefreshOutcome::Refused),
                },
                None => {
                    if let Some(family) = users::refresh_token_family(conn, &hash).await? {
                        let revoked = users::revoke_family(conn, family).await?;
                        if revoked > 0 {
                            tracing::warn!(%family, "refresh token reused; session family revoked");
                        }
                    }
                    // Committed either way: the revocation must stick although the caller gets 401.
                    Ok(RefreshOutcome::Refused)
                }
            }
        })
        .await?;
    match outcome {
        RefreshOutcome::Rotated(tokens) => Ok(HttpResponse::Ok().json(tokens)),
        RefreshOutcome::Refused => Err(ApiError::Unauthorized(BAD_REFRESH)),
    }
}

/// Log out: revoke the session the refresh token belongs to.
///
/// Always 204, also for unknown tokens, so the call is safe to retry.
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
    let hash = secret::digest(&body.0.refresh_token);
    let mut conn = db::connection(&state.pool).await?;
    if let Some(family) = users::refresh_token_family(&mut conn, &hash).await? {
        users::revoke_family(&mut conn, family).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
