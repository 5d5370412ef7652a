//! Sessions: a login opens one, a refresh rotates its refresh token, logout and a password reset
//! end it. An access token names its session, so ending the session ends the access token at once.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::auth::jwt::Keys;
use crate::auth::secret;
use crate::config::{to_chrono, JwtSettings};
use crate::db::{sessions, users};
use crate::error::ApiError;

/// What a login or a refresh hands back.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub user: users::UserRow,
}

/// Opens a new session for `user` (login, registration); run it in the caller's transaction.
pub async fn open(
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    jwt: &JwtSettings,
    user: users::UserRow,
) -> Result<Issued, ApiError> {
    let now = Utc::now();
    let session = Uuid::now_v7();
    let ends = now + to_chrono(jwt.session_max_age);
    sessions::insert_session(conn, session, user.id, ends).await?;
    let refresh_token = secret::generate();
    store_refresh_token(conn, jwt, &user, session, ends, &refresh_token, now).await?;
    issue(keys, user, session, refresh_token, now)
}

/// Opens a session for `user`, whose password the caller has just verified against
/// `user.password_hash`; `None` if that is no longer the password (a reset committed while Argon2
/// ran, without a connection), so the login is refused rather than outliving the reset.
pub async fn log_in(
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    jwt: &JwtSettings,
    user: users::UserRow,
) -> Result<Option<Issued>, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        if !users::lock_if_password(conn, user.id, &user.password_hash).await? {
            return Ok(None);
        }
        open(conn, keys, jwt, user).await.map(Some)
    })
    .await
}

/// Exchanges a refresh token for a new pair. `None` (401 for the caller) when the token is unknown,
/// expired, its session ended or its account disabled, or when a token already used is presented
/// again after the grace window: then its whole session is revoked (theft detection), and that
/// revocation is committed although the caller is refused.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    jwt: &JwtSettings,
    presented: &str,
) -> Result<Option<Issued>, ApiError> {
    let hash = secret::digest(presented);
    let next = secret::successor(jwt.secret.expose_secret().as_bytes(), presented);
    conn.transaction::<_, ApiError, _>(async |conn| {
        let now = Utc::now();
        if let Some(token) = sessions::consume_refresh_token(conn, &hash).await? {
            let Some((user, ends)) = live(conn, &token).await? else {
                return Ok(None);
            };
            store_refresh_token(conn, jwt, &user, token.family_id, ends, &next, now).await?;
            return issue(keys, user, token.family_id, next, now).map(Some);
        }
        let Some(token) = sessions::find_refresh_token(conn, &hash).await? else {
            return Ok(None);
        };
        if within_grace(&token, jwt, now) {
            // The same old token within seconds: a retry whose first answer was lost. It gets the
            // successor it was already given, as long as nobody has used that one yet. That one
            // was derived under the key of its day: a rotation may have happened in between.
            for candidate in successors(jwt, presented) {
                let found = sessions::find_refresh_token(conn, &secret::digest(&candidate)).await?;
                if found.is_some_and(|s| s.used_at.is_none() && s.revoked_at.is_none()) {
                    if let Some((user, _)) = live(conn, &token).await? {
                        return issue(keys, user, token.family_id, candidate, now).map(Some);
                    }
                }
            }
        }
        if sessions::revoke(conn, token.family_id).await? > 0 {
            tracing::warn!(session = %token.family_id, "refresh token reused; session revoked");
        }
        Ok(None)
    })
    .await
}

/// Ends the session `presented` belongs to, whatever state the token is in.
pub async fn logout(conn: &mut AsyncPgConnection, presented: &str) -> Result<(), ApiError> {
    if let Some(token) = sessions::find_refresh_token(conn, &secret::digest(presented)).await? {
        sessions::revoke(conn, token.family_id).await?;
    }
    Ok(())
}

/// The successors `presented` may have been given: under the current key, then each previous one.
fn successors(jwt: &JwtSettings, presented: &str) -> Vec<String> {
    std::iter::once(&jwt.secret)
        .chain(&jwt.previous_secrets)
        .map(|key| secret::successor(key.expose_secret().as_bytes(), presented))
        .collect()
}

fn within_grace(token: &sessions::RefreshTokenRow, jwt: &JwtSettings, now: DateTime<Utc>) -> bool {
    token.revoked_at.is_none()
        && token
            .used_at
            .is_some_and(|used| now - used <= to_chrono(jwt.refresh_grace))
}

/// The token's account if it is active and its session live, with when the session ends.
async fn live(
    conn: &mut AsyncPgConnection,
    token: &sessions::RefreshTokenRow,
) -> Result<Option<(users::UserRow, DateTime<Utc>)>, ApiError> {
    let Some(ends) = sessions::live_until(conn, token.family_id).await? else {
        return Ok(None);
    };
    Ok(users::find(conn, token.user_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .map(|u| (u, ends)))
}

async fn store_refresh_token(
    conn: &mut AsyncPgConnection,
    jwt: &JwtSettings,
    user: &users::UserRow,
    session: Uuid,
    session_ends: DateTime<Utc>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let row = sessions::NewRefreshToken {
        id: Uuid::now_v7(),
        family_id: session,
        user_id: user.id,
        token_hash: secret::digest(token),
        expires_at: (now + to_chrono(jwt.refresh_ttl)).min(session_ends),
    };
    sessions::insert_refresh_token(conn, row).await?;
    Ok(())
}

fn issue(
    keys: &Keys,
    user: users::UserRow,
    session: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<Issued, ApiError> {
    let access_token = keys.issue(user.id, session, now.timestamp())?;
    Ok(Issued {
        access_token,
        refresh_token,
        user,
    })
}
