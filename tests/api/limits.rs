//! Limits on hostile input and what every response carries: body size at its default, nesting depth,
//! a client trickling its request head, security headers, and error bodies that reveal nothing.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp};

#[tokio::test]
async fn a_json_body_over_the_default_one_mebibyte_is_413_problem() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    // 900 KiB gets past the size limit and is judged on its content.
    let under = json!({"bio": "x".repeat(900 * 1024)});
    let res = app.patch("/v1/me", &ada.token, &under).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "bio");

    let over = json!({"requirements": "x".repeat(1024 * 1024)});
    let res = app.post("/v1/orders", Some(&ada.token), &over).await;
    let body = problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn json_nested_deeper_than_32_levels_is_400_before_parsing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let deep = format!("{{\"bio\": {}1{}}}", "[".repeat(40), "]".repeat(40));
    let res = app
        .request(reqwest::Method::PATCH, "/v1/me", Some(&ada.token))
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "json_too_deep");
    // Brackets inside strings are text, not nesting.
    let res = app
        .patch("/v1/me", &ada.token, &json!({"bio": "[".repeat(100)}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_trickling_its_request_head_is_cut_off() {
    let app = TestApp::spawn_with(|s| s.client_request_timeout = Duration::from_millis(500)).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Half a request head, then silence.
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            .unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        let read = socket.read_to_end(&mut answer);
        (started.elapsed(), read.is_ok(), answer)
    })
    .await
    .unwrap();
    let (waited, closed, answer) = outcome;
    assert!(closed, "the server never closed the connection");
    assert!(
        waited < Duration::from_secs(5),
        "the connection stayed open {waited:?}"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "unexpected answer: {text}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let me = app.get("/v1/me", &ada.token).await;
    let unauthorized = app.get("/v1/me", "garbage").await;
    let no_route = app.get("/v1/nothing-here", &ada.token).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    for (name, res) in [
        ("me", me),
        ("401", unauthorized),
        ("404", no_route),
        ("health", health),
    ] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{name}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{name}");
        assert_eq!(h["cache-control"], "no-store", "{name}");
    }
    // The documentation pages are static and public: cacheable, but not sniffable either.
    let docs = app
        .client
        .get(app.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.headers()["x-content-type-options"], "nosniff");
    assert!(docs
        .headers()
        .get("cache-control")
        .is_none_or(|v| v != "no-store"));
}

#[tokio::test]
async fn error_bodies_reveal_no_internals() {
    let app = TestApp::spawn_without_database().await;
    let res = app
        .client
        .get(app.url("/v1/services"))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    let text = body.to_string().to_lowercase();
    for leak in [
        "postgres",
        "connection",
        "127.0.0.1",
        "diesel",
        "tokio",
        "src/",
    ] {
        assert!(!text.contains(leak), "the 503 body mentions {leak}: {text}");
    }
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert!(keys.len() <= 6, "unexpected fields: {keys:?}");
}

#[tokio::test]
async fn list_limits_are_capped_at_100() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for path in ["/v1/orders?limit=101", "/v1/services?limit=0"] {
        let body = problem(
            app.get(path, &ada.token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "limit", "{path}");
    }
    let page: Value = app
        .get("/v1/orders?limit=100", &ada.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(page["data"].is_array());
}

#[tokio::test]
async fn a_json_body_trickled_slower_than_its_deadline_is_408() {
    let app = TestApp::spawn_with(|s| s.request_body_timeout = Duration::from_millis(500)).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        socket
            .write_all(
                b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"email\": ",
            )
            .unwrap();
        let mut answer = vec![0u8; 1024];
        let n = socket.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..n]).to_string()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "answer: {answer}");
    assert!(
        answer.contains("application/problem+json"),
        "answer: {answer}"
    );
}
