//! Sessions (one per login) and the refresh tokens that rotate within them. Only digests of tokens
//! are stored.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{refresh_tokens, sessions, users};
use crate::domain::ids::UserId;

pub async fn insert_session(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    user: UserId,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// When a live session (not revoked, not past its absolute lifetime) ends.
pub async fn live_until(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<DateTime<Utc>>> {
    sessions::table
        .find(id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(sessions::expires_at)
        .first(conn)
        .await
        .optional()
}

/// The caller behind an access token, in one statement: the account is active and the session the
/// token names is live. `(id, is_admin)`.
pub async fn active_caller(
    conn: &mut AsyncPgConnection,
    user: UserId,
    session: Uuid,
) -> QueryResult<Option<(UserId, bool, bool)>> {
    users::table
        .inner_join(sessions::table)
        .filter(users::id.eq(user))
        .filter(users::disabled_at.is_null())
        .filter(sessions::id.eq(session))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            users::id,
            users::is_admin,
            users::email_verified_at.is_not_null(),
        ))
        .first(conn)
        .await
        .optional()
}

/// Ends one session: its access tokens stop working at once, its refresh tokens too.
pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(id)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)
        .await?;
    diesel::update(sessions::table.find(id))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
        .await
}

/// Ends every session of `user` (password reset; later logout-everywhere and admin revocation).
pub async fn revoke_all(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<usize> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(user)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(now))
        .execute(conn)
        .await?;
    diesel::update(sessions::table.filter(sessions::user_id.eq(user)))
        .filter(sessions::revoked_at.is_null())
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
        .await
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: UserId,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_refresh_token(
    conn: &mut AsyncPgConnection,
    token: NewRefreshToken,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(&token)
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub family_id: Uuid,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Marks a live token used, in one guarded statement so two concurrent refreshes cannot both win.
pub async fn consume_refresh_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<RefreshTokenRow>> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now)),
    )
    .set(refresh_tokens::used_at.eq(now))
    .returning(RefreshTokenRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// A token that exists at all (used, revoked or expired ones included).
pub async fn find_refresh_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshTokenRow::as_select())
        .first(conn)
        .await
        .optional()
}
