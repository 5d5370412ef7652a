//! Account actions that others must hear of.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::auth::secret;
use crate::db::{outbox, sessions, users};
use crate::domain::account::Email;
use crate::domain::events::{Event, PasswordResetRequested};
use crate::domain::ids::UserId;
use crate::error::ApiError;

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
    let token = secret::generate();
    let expires_at = Utc::now() + chrono::Duration::minutes(RESET_TTL_MINUTES);
    conn.transaction::<_, ApiError, _>(async |conn| {
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
        Ok(())
    })
    .await?;
    Ok(Some(token))
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
            outbox::purge_reset_tokens_of(conn, user).await?;
            Ok(Some(user))
        })
        .await?;
    if let Some(user) = user {
        tracing::info!(user_id = %user, "password reset");
    }
    Ok(user)
}
