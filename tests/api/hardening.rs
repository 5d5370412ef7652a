//! Regression tests for the outside review of accounts and orders (issue #9): one test per finding,
//! named after it, each failing on the code as it was reviewed.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{problem, TestApp};

// 7. (Low) A 500 from bad input.
#[tokio::test]
async fn h07_timestamps_before_year_one_are_422_not_500() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for bad in ["-5000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z"] {
        let res = app
            .get(
                &format!("/v1/orders?due_before={}", urlencode(bad)),
                &ada.token,
            )
            .await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "due_before");
        assert_eq!(body["errors"][0]["code"], "out_of_range");
    }
    // The same instant smuggled in through a hand-made `due_at` cursor.
    use base64::Engine as _;
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"s": "d", "d": "-5000-01-01T00:00:00Z", "id": uuid::Uuid::nil()}).to_string(),
    );
    let res = app
        .get(
            &format!("/v1/orders?sort=due_at&cursor={cursor}"),
            &ada.token,
        )
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "invalid_cursor");
}

// 13. (Low) Ordering a disabled creative's service.
#[tokio::test]
async fn h13_a_disabled_creatives_service_takes_no_orders() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let service = app.create_service(&creative).await;
    app.sql(&format!(
        "UPDATE users SET disabled_at = now() WHERE id = '{}'",
        creative.id
    ))
    .await;
    let res = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"service_id": service["id"], "requirements": "A fox."}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "service_id");
    assert_eq!(body["errors"][0]["code"], "unknown_service");
    let mine = app.get("/v1/orders", &client.token).await;
    let mine: serde_json::Value = mine.json().await.unwrap();
    assert_eq!(
        mine["data"].as_array().unwrap().len(),
        0,
        "nothing was placed"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
