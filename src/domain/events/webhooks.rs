//! Events about integrators' webhook endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::ids::UserId;

/// `webhook_endpoint.disabled`: an endpoint failed every delivery for too long and was turned off;
/// its owner hears of it (by email and in-app, never by the endpoint itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointDisabled {
    pub endpoint_id: Uuid,
    #[schema(value_type = Uuid)]
    pub owner_id: UserId,
    pub url: String,
    /// When the failures began.
    pub failing_since: DateTime<Utc>,
}
