//! The caller, proven from the bearer token on every request that needs one.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::state::AppState;
use crate::db;
use crate::domain::ids::UserId;

#[derive(Clone, Copy, Debug)]
pub struct AuthUser {
    pub id: UserId,
    pub is_admin: bool,
    /// Whether the account's email address is verified.
    pub email_verified: bool,
}

impl AuthUser {
    /// Placing orders and publishing services need a verified address when
    /// `REQUIRE_EMAIL_VERIFICATION` is on (403 `email_unverified`).
    pub fn require_verified(&self, state: &AppState) -> Result<(), ApiError> {
        if self.email_verified || !state.settings.notifications.require_email_verification {
            return Ok(());
        }
        Err(ApiError::Forbidden {
            code: "email_unverified",
            detail: "Verify your email address first: follow the link we sent you, or ask for a new one with POST /v1/auth/verify-email/resend.".into(),
        })
    }
}

const MISSING: &str = "A valid bearer access token is required.";
const INVALID: &str = "The access token is invalid or expired.";

/// The bearer token of a request, verified (signature, expiry, key) but not yet checked against
/// the session: for reads that fold the session check into their own statement
/// (`db::orders::find_view_in_session`) and call [`Bearer::confirm`] only when it found nothing.
#[derive(Clone, Copy, Debug)]
pub struct Bearer {
    pub user: UserId,
    pub session: uuid::Uuid,
}

impl Bearer {
    /// The caller as a statement that also checked the session found them.
    pub fn caller(&self, is_admin: bool, email_verified: bool) -> AuthUser {
        AuthUser {
            id: self.user,
            is_admin,
            email_verified,
        }
    }

    /// The caller, if their account and session are live; 401 otherwise.
    pub async fn confirm(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
    ) -> Result<AuthUser, ApiError> {
        let (id, is_admin, email_verified) =
            db::sessions::active_caller(conn, self.user, self.session)
                .await?
                .ok_or(ApiError::Unauthorized(INVALID))?;
        Ok(AuthUser {
            id,
            is_admin,
            email_verified,
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        })
}

fn verify(state: &AppState, token: Option<String>) -> Result<Bearer, ApiError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized(MISSING))?;
    let claims = state.keys.verify(&token).map_err(|e| {
        tracing::debug!(error = %e, "access token refused");
        ApiError::Unauthorized(INVALID)
    })?;
    Ok(Bearer {
        user: claims.sub,
        session: claims.sid,
    })
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>();
        std::future::ready(match state {
            Some(state) => verify(state, bearer_token(req)),
            None => Err(anyhow::anyhow!("application state is not configured").into()),
        })
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| anyhow::anyhow!("application state is not configured"))?;
            let bearer = verify(&state, token)?;
            let mut conn = db::connection(&state.pool).await?;
            bearer.confirm(&mut conn).await
        })
    }
}

/// A request refused on its shape alone still says 401 first when the session is not live.
pub async fn refuse_after_session_check(
    conn: &mut diesel_async::AsyncPgConnection,
    bearer: &Bearer,
    refusal: ApiError,
) -> ApiError {
    match bearer.confirm(conn).await {
        Ok(_) => refusal,
        Err(e) => e,
    }
}
