//! Events about reviews.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::{OrderId, UserId};
use crate::domain::order::ActorRole;

/// `review.published`: a review became visible (both parties reviewed, or the window closed); the
/// reviewed party should hear of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewPublished {
    pub review_id: Uuid,
    #[schema(value_type = Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = Uuid)]
    pub author_id: UserId,
    pub author_role: ActorRole,
    #[schema(value_type = Uuid)]
    pub subject_id: UserId,
    pub rating: i16,
}
