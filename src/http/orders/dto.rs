//! The wire shapes of orders: requests, responses, and their conversions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::app;
use crate::domain::order::{ActorRole, OrderStatus};
use crate::http::extract::{nullable, optional_integer, optional_strict_uuid};
use crate::http::money::MoneyDto;
use crate::http::schemas;

/// Either `service_id` (title, price, due date and revisions come from the service) or a custom
/// order (`creative_id`, `title`, `price`, `due_at`, optionally `revisions_included`).
#[derive(Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"service_id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e02", "requirements": "A fox, orange and teal."}),
    json!({"creative_id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "title": "Album cover",
        "requirements": "3000x3000 px, moody.", "price": {"amount": 40000, "currency": "EUR"},
        "due_at": "2026-12-20T12:00:00Z", "revisions_included": 2})
))]
pub struct CreateOrderRequest {
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    pub(super) service_id: Option<Uuid>,
    #[serde(default, deserialize_with = "optional_strict_uuid")]
    pub(super) creative_id: Option<Uuid>,
    #[schema(schema_with = schemas::title_or_null)]
    pub(super) title: Option<String>,
    /// What the client needs.
    #[schema(schema_with = schemas::requirements)]
    pub(super) requirements: String,
    pub(super) price: Option<MoneyDto>,
    /// Must be in the future.
    pub(super) due_at: Option<DateTime<Utc>>,
    /// Custom orders only; 0 to 100, default 0.
    #[validate(range(min = 0, max = 100))]
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, deserialize_with = "optional_integer")]
    pub(super) revisions_included: Option<i32>,
}

impl CreateOrderRequest {
    /// From a service, at its current terms.
    pub(super) fn from_service(service: Uuid, requirements: String) -> Self {
        CreateOrderRequest {
            service_id: Some(service),
            creative_id: None,
            title: None,
            requirements,
            price: None,
            due_at: None,
            revisions_included: None,
        }
    }

    /// A custom order.
    pub(super) fn custom(
        creative: Uuid,
        title: String,
        requirements: String,
        price: MoneyDto,
        due_at: Option<DateTime<Utc>>,
        revisions_included: i32,
    ) -> Self {
        CreateOrderRequest {
            service_id: None,
            creative_id: Some(creative),
            title: Some(title),
            requirements,
            price: Some(price),
            due_at,
            revisions_included: Some(revisions_included),
        }
    }
}

impl From<&CreateOrderRequest> for app::orders::PlaceOrder {
    fn from(body: &CreateOrderRequest) -> Self {
        app::orders::PlaceOrder {
            service_id: body.service_id.map(Into::into),
            creative_id: body.creative_id.map(Into::into),
            title: body.title.clone(),
            requirements: body.requirements.clone(),
            price: body.price.as_ref().map(|p| (p.amount, p.currency.clone())),
            due_at: body.due_at,
            revisions_included: body.revisions_included,
            verified_creatives_only: false,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"requirements": "A fox, orange and teal; no text.", "due_at": "2026-12-22T12:00:00Z"}))]
pub struct UpdateOrderRequest {
    #[schema(schema_with = schemas::requirements_or_null)]
    pub(super) requirements: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    /// A new deadline; it cannot be cleared, so `null` is refused.
    #[schema(value_type = DateTime<Utc>, required = false)]
    pub(super) due_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub id: Uuid,
    pub display_name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a0a4-8000-7c41-9a0e-2f1b7c9d8e03", "status": "new", "version": 1,
    "title": "Logo design", "requirements": "A fox, orange and teal.",
    "price": {"amount": 15000, "currency": "EUR"}, "due_at": "2026-12-05T15:12:52Z", "late": false, "unread_count": 2,
    "revisions_used": 0, "revisions_included": 2,
    "client": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e09", "display_name": "Grace"},
    "creative": {"id": "0193a0a4-5e2b-7c41-9a0e-2f1b7c9d8e01", "display_name": "Ada"},
    "service_id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e02", "your_role": "creative",
    "allowed_transitions": ["in_progress", "declined"], "delivered_at": null, "auto_complete_at": null,
    "created_at": "2026-11-28T15:12:52Z", "updated_at": "2026-11-28T15:12:52Z"}))]
pub struct OrderResponse {
    pub id: Uuid,
    pub status: OrderStatus,
    /// Increments on every change; send it back in `If-Match`.
    pub version: i64,
    pub title: String,
    pub requirements: String,
    pub price: MoneyDto,
    pub due_at: DateTime<Utc>,
    /// Past `due_at` and not yet delivered or closed.
    pub late: bool,
    /// Messages in the thread the caller has not read (their own never count).
    pub unread_count: i64,
    pub revisions_used: i32,
    pub revisions_included: i32,
    pub client: Party,
    pub creative: Party,
    pub service_id: Option<Uuid>,
    /// The caller's part in this order.
    pub your_role: ActorRole,
    /// The statuses the caller may move the order to now, for drawing buttons.
    pub allowed_transitions: Vec<OrderStatus>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When a delivered order completes by itself if the client does nothing.
    pub auto_complete_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
