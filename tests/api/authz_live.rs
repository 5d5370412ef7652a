//! The authorization matrix's arrangements for the live stream and webhook endpoints. An endpoint
//! is its owner's alone: everyone else, admins included, gets 404 (its secret signs the owner's
//! data).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::authz::{call, Call, Parties};
use crate::helpers::{json_ok, TestApp};

pub const OPERATIONS: [&str; 9] = [
    "streamEvents",
    "createEventStreamTicket",
    "createWebhookEndpoint",
    "listWebhookEndpoints",
    "getWebhookEndpoint",
    "updateWebhookEndpoint",
    "deleteWebhookEndpoint",
    "rotateWebhookSecret",
    "listWebhookDeliveries",
];

/// What the matrix's app needs: a range the endpoints' host (`hooks.test`, loopback) may be in.
pub fn allow_receivers(s: &mut createspace::config::Settings) {
    s.webhooks.destinations.allowed =
        vec![createspace::config::IpNet::parse("127.0.0.0/8").unwrap()];
}

/// A fresh endpoint of the client's (the owner), the only one it has, so the per-account limit
/// never gets in the matrix's way.
async fn endpoint(app: &TestApp, p: &Parties<'_>) -> String {
    app.sql("DELETE FROM webhook_endpoints").await;
    let res = app
        .post(
            "/v1/webhook-endpoints",
            Some(&p.client.token),
            &json!({"url": "https://hooks.test/hook", "events": ["order.placed"]}),
        )
        .await;
    json_ok(res, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn arrange(app: &TestApp, p: &Parties<'_>, op: &str) -> Call {
    if op == "streamEvents" {
        return call(Method::GET, "/v1/events".into(), None);
    }
    if op == "createEventStreamTicket" {
        return call(Method::POST, "/v1/events/ticket".into(), None);
    }
    if op == "createWebhookEndpoint" {
        app.sql("DELETE FROM webhook_endpoints").await;
        return call(
            Method::POST,
            "/v1/webhook-endpoints".into(),
            Some(json!({"url": "https://hooks.test/hook", "events": ["order.placed"]})),
        );
    }
    if op == "listWebhookEndpoints" {
        return call(Method::GET, "/v1/webhook-endpoints".into(), None);
    }
    let id = endpoint(app, p).await;
    let path = format!("/v1/webhook-endpoints/{id}");
    let mut c = match op {
        "getWebhookEndpoint" => call(Method::GET, path.clone(), None),
        "updateWebhookEndpoint" => {
            call(Method::PATCH, path.clone(), Some(json!({"enabled": false})))
        }
        "deleteWebhookEndpoint" => call(Method::DELETE, path.clone(), None),
        "rotateWebhookSecret" => call(Method::POST, format!("{path}/rotate-secret"), None),
        "listWebhookDeliveries" => call(Method::GET, format!("{path}/deliveries"), None),
        other => panic!("no arrangement for {other}"),
    };
    c.probe = Some(path);
    c
}
