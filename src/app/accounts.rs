//! Account actions that others must hear of.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::auth::secret;
use crate::db::{outbox, sessions, users};
use crate::domain::account::Email;
use crate::domain::events::{EmailVerificationRequested, Event, PasswordResetRequested};
use crate::domain::ids::UserId;
use crate::error::ApiError;

/// How long a verification link works.
pub const VERIFICATION_TTL_HOURS: i64 = 48;

/// Creates an account and logs it in, and sends the verification mail
/// (`user.email_verification_requested`), in one transaction.
pub async fn register(
    conn: &mut AsyncPgConnection,
    keys: &crate::auth::jwt::Keys,
    jwt: &crate::config::JwtSettings,
    new: users::NewUser<'_>,
) -> Result<super::sessions::Issued, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = users::insert(conn, new).await?;
        send_verification(conn, user.id, &user.email).await?;
        super::sessions::open(conn, keys, jwt, user).await
    })
    .await
}

/// Issues a verification token for `email` and hands it to the notifier; run it in the caller's
/// transaction.
async fn send_verification(
    conn: &mut AsyncPgConnection,
    user: UserId,
    email: &str,
) -> Result<(), ApiError> {
    let token = secret::generate();
    let expires_at = Utc::now() + chrono::Duration::hours(VERIFICATION_TTL_HOURS);
    let row = users::NewVerificationToken {
        id: Uuid::now_v7(),
        user_id: user,
        email,
        token_hash: secret::digest(&token),
        expires_at,
    };
    users::insert_verification_token(conn, row).await?;
    let event = EmailVerificationRequested {
        user_id: user,
        email: email.to_string(),
        token,
        expires_at,
    };
    outbox::insert(conn, &Event::EmailVerificationRequested(event)).await?;
    Ok(())
}

/// Sends a new verification mail, unless the address is verified already (then `false`).
pub async fn resend_verification(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<bool, ApiError> {
    let Some(row) = users::find(conn, user).await? else {
        return Err(ApiError::Unauthorized("The account no longer exists."));
    };
    if row.email_verified_at.is_some() {
        return Ok(false);
    }
    conn.transaction::<_, ApiError, _>(async |conn| {
        send_verification(conn, user, &row.email).await
    })
    .await?;
    Ok(true)
}

/// Verifies the address a live token was sent to, and purges the token's plaintext from the
/// outbox. `None` when the token is unknown, expired, used, or the address changed since.
pub async fn verify_email(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<Option<UserId>, ApiError> {
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let user = users::consume_verification_token(conn, token_hash).await?;
            if let Some(user) = user {
                outbox::purge_tokens_of(conn, user, "user.email_verification_requested").await?;
            }
            Ok(user)
        })
        .await?;
    if let Some(user) = user {
        tracing::info!(user_id = %user, "email address verified");
    }
    Ok(user)
}

/// How long a reset token works.
pub const RESET_TTL_MINUTES: i64 = 30;

/// Issues a reset token for the active account at `email`, if there is one, and hands it to the
/// notifier (`user.password_reset_requested`), the only place its plaintext is kept. Returns the
/// token, for development logging only; `None` when no active account has this email (the caller
/// answers the same either way).
pub async fn request_password_reset(
    conn: &mut AsyncPgConnection,
    email: &Email,
) -> Result<Option<String>, ApiError> {
    let Some(user) = users::find_by_email(conn, email.as_str()).await? else {
        return Ok(None);
    };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    let token = conn
        .transaction::<_, ApiError, _>(async |conn| Ok(issue_reset(conn, &user).await?))
        .await?;
    Ok(Some(token))
}

/// Issues a reset token for `user` and queues the mail carrying it, inside the caller's
/// transaction (a user's request, or support's on their behalf). Returns the token.
pub async fn issue_reset(
    conn: &mut AsyncPgConnection,
    user: &users::UserRow,
) -> diesel::QueryResult<String> {
    let token = secret::generate();
    let expires_at = Utc::now() + chrono::Duration::minutes(RESET_TTL_MINUTES);
    let row = users::NewResetToken {
        id: Uuid::now_v7(),
        user_id: user.id,
        token_hash: secret::digest(&token),
        expires_at,
    };
    users::insert_reset_token(conn, row).await?;
    let event = PasswordResetRequested {
        user_id: user.id,
        email: user.email.clone(),
        token: token.clone(),
        expires_at,
    };
    outbox::insert(conn, &Event::PasswordResetRequested(event)).await?;
    Ok(token)
}

/// Sets a new password with a live reset token (`token_hash`): uses up every reset token of the
/// account, ends all its sessions (access tokens included) and purges the tokens' plaintext from
/// the outbox. `None` if the token is no longer live (another request used it first).
pub async fn reset_password(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    password_hash: &str,
) -> Result<Option<UserId>, ApiError> {
    let user = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let Some(user) = users::consume_reset_token(conn, token_hash).await? else {
                return Ok(None);
            };
            users::set_password(conn, user, password_hash).await?;
            sessions::revoke_all(conn, user).await?;
            outbox::purge_tokens_of(conn, user, "user.password_reset_requested").await?;
            Ok(Some(user))
        })
        .await?;
    if let Some(user) = user {
        tracing::info!(user_id = %user, "password reset");
    }
    Ok(user)
}
