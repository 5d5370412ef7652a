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
        if let Some(v) = expected {
            let version = current.map_or(0, |p| p.version);
            if v != version {
                return Err(ApiError::PreconditionFailed {
                    current_version: version,
                });
            }
        }
        Ok(billing::put_profile(conn, user, details).await?)
    })
    .await
}
