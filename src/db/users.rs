//! Users, their sessions (refresh tokens) and password-reset tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::domain::account::CustomOrders;
use crate::domain::ids::UserId;

use super::schema::{email_verification_tokens, password_reset_tokens, users};
pub use super::Update;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub time_zone: String,
    pub is_admin: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub custom_orders: CustomOrders,
    pub email_verified_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
}

/// Profile changes; `None` leaves a field alone, `Some(None)` clears a nullable one.
#[derive(Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub custom_orders: Option<CustomOrders>,
}

pub async fn insert(conn: &mut AsyncPgConnection, user: NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(&user)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Locks the account's row (shared) if it is active and `password_hash` is still its password:
/// a login verified against a hash a concurrent reset has just replaced must not open a session.
/// A reset holds the row until it commits, so this waits for it and then sees the new hash.
pub async fn lock_if_password(
    conn: &mut AsyncPgConnection,
    id: UserId,
    password_hash: &str,
) -> QueryResult<bool> {
    users::table
        .find(id)
        .filter(users::password_hash.eq(password_hash))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .for_share()
        .first::<UserId>(conn)
        .await
        .optional()
        .map(|row| row.is_some())
}

/// The caller behind a token, if the account still exists and is not disabled: `(id, is_admin)`.
pub async fn find_active(
    conn: &mut AsyncPgConnection,
    id: UserId,
) -> QueryResult<Option<(UserId, bool)>> {
    users::table
        .find(id)
        .filter(users::disabled_at.is_null())
        .select((users::id, users::is_admin))
        .first(conn)
        .await
        .optional()
}

/// Applies profile changes guarded by the expected version (when the caller sent `If-Match`).
pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: UserId,
    changes: ProfileChanges,
    expected_version: Option<i64>,
) -> QueryResult<Update<UserRow>> {
    let bump = (
        changes,
        users::version.eq(users::version + 1),
        users::updated_at.eq(diesel::dsl::now),
    );
    let updated = match expected_version {
        Some(v) => {
            diesel::update(
                users::table
                    .filter(users::id.eq(id))
                    .filter(users::version.eq(v)),
            )
            .set(bump)
            .returning(UserRow::as_returning())
            .get_result(conn)
            .await
        }
        None => {
            diesel::update(users::table.find(id))
                .set(bump)
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await
        }
    }
    .optional()?;
    Ok(match updated {
        Some(row) => Update::Updated(row),
        None => match find(conn, id).await? {
            Some(row) => Update::Stale(row.version),
            None => Update::NotFound,
        },
    })
}

pub async fn set_password(
    conn: &mut AsyncPgConnection,
    id: UserId,
    hash: &str,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::version.eq(users::version + 1),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
}

pub async fn set_admin(
    conn: &mut AsyncPgConnection,
    email: &str,
    admin: bool,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::email.eq(email)))
        .set((
            users::is_admin.eq(admin),
            users::version.eq(users::version + 1),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
}

// --- password reset tokens ----------------------------------------------------------------------

#[derive(Insertable)]
#[diesel(table_name = password_reset_tokens)]
pub struct NewResetToken {
    pub id: Uuid,
    pub user_id: UserId,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_reset_token(
    conn: &mut AsyncPgConnection,
    token: NewResetToken,
) -> QueryResult<()> {
    diesel::insert_into(password_reset_tokens::table)
        .values(&token)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The user a live (unused, unexpired) reset token belongs to.
pub async fn reset_token_user(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<UserId>> {
    password_reset_tokens::table
        .filter(password_reset_tokens::token_hash.eq(hash))
        .filter(password_reset_tokens::used_at.is_null())
        .filter(password_reset_tokens::expires_at.gt(diesel::dsl::now))
        .select(password_reset_tokens::user_id)
        .first(conn)
        .await
        .optional()
}

/// Uses a live reset token up, and with it every other live token of its user: one reset ends
/// them all. The user, or `None` if the token was not live (another request used it first).
pub async fn consume_reset_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<UserId>> {
    let user = diesel::update(
        password_reset_tokens::table
            .filter(password_reset_tokens::token_hash.eq(hash))
            .filter(password_reset_tokens::used_at.is_null())
            .filter(password_reset_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(password_reset_tokens::used_at.eq(diesel::dsl::now))
    .returning(password_reset_tokens::user_id)
    .get_result(conn)
    .await
    .optional()?;
    if let Some(user) = user {
        diesel::update(
            password_reset_tokens::table
                .filter(password_reset_tokens::user_id.eq(user))
                .filter(password_reset_tokens::used_at.is_null()),
        )
        .set(password_reset_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    }
    Ok(user)
}

/// Display names of the given users, for the parties of a page of orders.
pub async fn display_names(
    conn: &mut AsyncPgConnection,
    ids: &[UserId],
) -> QueryResult<Vec<(UserId, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)
        .await
}

// --- email verification tokens -------------------------------------------------------------------

#[derive(Insertable)]
#[diesel(table_name = email_verification_tokens)]
pub struct NewVerificationToken<'a> {
    pub id: Uuid,
    pub user_id: UserId,
    pub email: &'a str,
    pub token_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Records a new verification token; the user's earlier ones stop working.
pub async fn insert_verification_token(
    conn: &mut AsyncPgConnection,
    token: NewVerificationToken<'_>,
) -> QueryResult<()> {
    diesel::update(
        email_verification_tokens::table
            .filter(email_verification_tokens::user_id.eq(token.user_id))
            .filter(email_verification_tokens::used_at.is_null()),
    )
    .set(email_verification_tokens::used_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    diesel::insert_into(email_verification_tokens::table)
        .values(&token)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Uses up a live verification token and marks its user's address verified, if the address is
/// still the one the token was sent to. The user, or `None` when the token is not live.
pub async fn consume_verification_token(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
) -> QueryResult<Option<UserId>> {
    let used: Option<(UserId, String)> = diesel::update(
        email_verification_tokens::table
            .filter(email_verification_tokens::token_hash.eq(hash))
            .filter(email_verification_tokens::used_at.is_null())
            .filter(email_verification_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(email_verification_tokens::used_at.eq(diesel::dsl::now))
    .returning((
        email_verification_tokens::user_id,
        email_verification_tokens::email,
    ))
    .get_result(conn)
    .await
    .optional()?;
    let Some((user, email)) = used else {
        return Ok(None);
    };
    let verified = diesel::update(
        users::table
            .filter(users::id.eq(user))
            .filter(users::email.eq(&email)),
    )
    .set(users::email_verified_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("COALESCE(email_verified_at, now())")))
    .execute(conn)
    .await?;
    Ok((verified == 1).then_some(user))
}
