//! The caller's billing details.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::billing::{self, BillingProfileRow};
use crate::domain::billing::profile::BillingDetails;
use crate::domain::ids::UserId;
use crate::error::ApiError;

/// Creates or replaces the caller's billing details; with `expected`, only over that version.
pub async fn put_profile(
    conn: &mut AsyncPgConnection,
    user: UserId,
    details: &BillingDetails,
    expected: Option<i64>,
) -> Result<BillingProfileRow, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = billing::lock_profile(conn, user).await?;
        let version = current.map_or(0, |p| p.version);
        let stale = ApiError::PreconditionFailed {
            current_version: version,
        };
        match expected {
            Some(v) if v != version => Err(stale),
            // "None yet" locks no row: only an insert that finds none may go ahead, or two such
            // writes would both pass and the second overwrite the first.
            Some(0) => billing::insert_profile(conn, user, details)
                .await?
                .ok_or(ApiError::PreconditionFailed { current_version: 1 }),
            _ => Ok(billing::put_profile(conn, user, details).await?),
        }
    })
    .await
}
