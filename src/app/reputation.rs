//! A user's public face: who they are and what their orders and reviews say of them, in two
//! statements (the profile, then the active services).

use diesel_async::AsyncPgConnection;

use crate::db::profiles::{self, ProfileRow};
use crate::db::services::{self, ServiceRow};
use crate::domain::ids::UserId;
use crate::error::ApiError;

pub struct Profile {
    pub facts: ProfileRow,
    pub services: Vec<ServiceRow>,
}

/// At most this many active services on a profile (the catalogue lists the rest).
pub const PROFILE_SERVICES: i64 = 20;

/// An active account's profile; 404 for one that does not exist or was disabled.
pub async fn profile(conn: &mut AsyncPgConnection, id: UserId) -> Result<Profile, ApiError> {
    let facts = profiles::profile(conn, id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let filter = services::ServiceFilter {
        creative_id: Some(id),
        q: None,
        before: None,
        limit: PROFILE_SERVICES,
    };
    let services = services::list(conn, filter).await?;
    Ok(Profile { facts, services })
}
