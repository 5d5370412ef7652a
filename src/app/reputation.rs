//! A user's public face: who they are and what their orders and reviews say of them.

use diesel_async::AsyncPgConnection;

use crate::db::reviews::{self, OrderStats, RatingRow};
use crate::db::services::{self, ServiceRow};
use crate::db::users::{self, UserRow};
use crate::domain::ids::UserId;
use crate::domain::order::ActorRole;
use crate::error::ApiError;

/// Everything a profile shows.
pub struct Profile {
    pub user: UserRow,
    /// Reviewed as a creative, and as a client (published, visible reviews only).
    pub as_creative: Option<RatingRow>,
    pub as_client: Option<RatingRow>,
    pub orders: OrderStats,
    pub services: Vec<ServiceRow>,
}

/// At most this many active services on a profile (the catalogue lists the rest).
pub const PROFILE_SERVICES: i64 = 20;

/// An active account's profile; 404 for one that does not exist or was disabled.
pub async fn profile(conn: &mut AsyncPgConnection, id: UserId) -> Result<Profile, ApiError> {
    let user = users::find(conn, id)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(ApiError::NotFound("user"))?;
    let mut ratings = reviews::ratings_of(conn, id).await?;
    let take = |ratings: &mut Vec<RatingRow>, role| {
        ratings
            .iter()
            .position(|r| r.role == role)
            .map(|i| ratings.swap_remove(i))
    };
    let as_creative = take(&mut ratings, ActorRole::Creative);
    let as_client = take(&mut ratings, ActorRole::Client);
    let orders = reviews::order_stats(conn, id).await?;
    let filter = services::ServiceFilter {
        creative_id: Some(id),
        q: None,
        before: None,
        limit: PROFILE_SERVICES,
    };
    let services = services::list(conn, filter).await?;
    Ok(Profile {
        user,
        as_creative,
        as_client,
        orders,
        services,
    })
}
