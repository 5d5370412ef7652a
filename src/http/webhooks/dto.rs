//! Webhook endpoints' request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::db::webhooks::{AttemptRow, EndpointRow};
use crate::domain::webhooks::{deliverable, MAX_EVENTS};
use crate::http::extract::nullable;
use crate::http::schemas;

/// The event types a webhook may name, from the list the server checks against.
pub fn event_types() -> utoipa::openapi::schema::Array {
    let names: Vec<&str> = deliverable().collect();
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .enum_values(Some(names))
                .max_length(Some(64)),
        )
        .min_items(Some(1))
        .max_items(Some(MAX_EVENTS))
        .description(Some(
            "Event types to receive: 1 to 64, each a type in the document's `webhooks` section.",
        ))
        .build()
}

fn event_types_or_null() -> utoipa::openapi::schema::Array {
    let mut array = event_types();
    array.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    array
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.com/createspace",
    "events": ["order.placed", "message.posted"], "description": "Order sync"}))]
pub struct CreateWebhookEndpointRequest {
    /// Where deliveries are POSTed: `https://`, resolving to public addresses only.
    #[schema(max_length = 2048)]
    pub url: String,
    #[schema(schema_with = event_types)]
    pub events: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = schemas::webhook_description_or_null)]
    pub description: Option<String>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"events": ["order.placed", "order.status_changed"], "enabled": true}))]
pub struct UpdateWebhookEndpointRequest {
    #[schema(max_length = 2048, nullable = true)]
    pub url: Option<String>,
    #[schema(schema_with = event_types_or_null)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = schemas::webhook_description_or_null)]
    pub description: Option<Option<String>>,
    /// `false` stops deliveries; `true` resumes them (also after the server disabled a failing
    /// endpoint).
    #[schema(nullable = true)]
    pub enabled: Option<bool>,
}

/// Why an endpoint receives nothing.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Its owner turned it off.
    Owner,
    /// Every delivery failed for `WEBHOOK_DISABLE_AFTER` (3 days by default).
    Failing,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e40",
    "url": "https://hooks.example.com/createspace", "description": "Order sync",
    "events": ["order.placed", "message.posted"], "enabled": true, "disabled_reason": null,
    "failing_since": null, "secret_rotated_until": null, "version": 1,
    "created_at": "2026-11-28T15:12:52Z", "updated_at": "2026-11-28T15:12:52Z"}))]
pub struct WebhookEndpointResponse {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    /// Set while deliveries fail; cleared by the next success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub secret_rotated_until: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&EndpointRow> for WebhookEndpointResponse {
    fn from(r: &EndpointRow) -> Self {
        WebhookEndpointResponse {
            id: r.id.into(),
            url: r.url.clone(),
            description: r.description.clone(),
            events: r.events.clone(),
            enabled: r.enabled,
            disabled_reason: match r.disabled_reason.as_deref() {
                Some("failing") => Some(DisabledReason::Failing),
                Some(_) => Some(DisabledReason::Owner),
                None => None,
            },
            failing_since: r.failing_since,
            secret_rotated_until: r.previous_secret_expires_at.filter(|at| *at > Utc::now()),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// An endpoint with its signing secret: the answer to creating it or rotating the secret, and the
/// only time the secret is shown.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e40",
    "url": "https://hooks.example.com/createspace", "description": "Order sync",
    "events": ["order.placed"], "enabled": true, "disabled_reason": null, "failing_since": null,
    "secret_rotated_until": null, "version": 1, "created_at": "2026-11-28T15:12:52Z",
    "updated_at": "2026-11-28T15:12:52Z",
    "secret": "whsec_q7C0bQ6J2oWmY1v9p3XkR4tH8sN5aZ0eL6uD2fG7hJ1"}))]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointResponse,
    /// Verify each delivery's `CreateSpace-Signature` with it. Shown only now; store it safely.
    pub secret: String,
}

impl From<&EndpointRow> for WebhookEndpointWithSecret {
    fn from(r: &EndpointRow) -> Self {
        WebhookEndpointWithSecret {
            endpoint: r.into(),
            secret: r.secret.clone(),
        }
    }
}

/// One attempt to deliver one event.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a0a4-7100-7c41-9a0e-2f1b7c9d8e41",
    "event_id": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10", "event_type": "order.placed",
    "attempt": 1, "succeeded": true, "status_code": 200, "latency_ms": 84,
    "response_excerpt": "ok", "error": null, "attempted_at": "2026-11-28T15:12:53Z"}))]
pub struct WebhookAttemptResponse {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// 1 for the first try.
    pub attempt: i32,
    /// A 2xx answer.
    pub succeeded: bool,
    /// The receiver's HTTP status; null when no answer came.
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// The first kilobyte of the receiver's answer.
    pub response_excerpt: Option<String>,
    /// Why no answer counted: a refused address, a timeout, a connection error.
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
}

impl From<AttemptRow> for WebhookAttemptResponse {
    fn from(r: AttemptRow) -> Self {
        WebhookAttemptResponse {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            attempt: r.attempt,
            succeeded: r.succeeded,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            response_excerpt: r.response_excerpt,
            error: r.error,
            attempted_at: r.attempted_at,
        }
    }
}
