//! The framework's own failures come out as problem+json with the right status.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{problem, TestApp};

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::NOT_FOUND).await;
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn wrong_method_is_405_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::DELETE, "/v1/auth/login", None)
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn malformed_json_is_400_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::POST, "/v1/auth/login", None)
        .header("Content-Type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "malformed_json");
}

#[tokio::test]
async fn wrong_content_type_is_415_problem() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::POST, "/v1/auth/login", None)
        .header("Content-Type", "text/plain")
        .body("email=a@example.com")
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(body["code"], "unsupported_media_type");
}

#[tokio::test]
async fn over_large_body_is_413_problem() {
    let app = TestApp::spawn_with(|s| s.max_json_bytes = 1024).await;
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "a@example.com", "password": "x".repeat(4096)}),
        )
        .await;
    let body = problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn wrong_field_type_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": 42, "password": "x"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(body["errors"][0]["code"], "invalid_type");
}

#[tokio::test]
async fn unknown_and_missing_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "a@example.com", "password": "x", "remember": true}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "remember");
    assert_eq!(body["errors"][0]["code"], "unknown_field");

    let res = app
        .post("/v1/auth/login", None, &json!({"email": "a@example.com"}))
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "required");
}

#[tokio::test]
async fn missing_credentials_are_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/v1/me", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn nul_bytes_are_client_errors_never_500s() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    for path in ["/v1/orders?q=a%00b", "/v1/services?q=%00"] {
        let res = app.get(path, &ada.token).await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "q", "{path}");
    }
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "ada\u{0}@example.com", "password": "whatever it is"}),
        )
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    let id = app.order_in("new", &grace, &ada).await;
    let res = app
        .transition(&ada, &id, "declined", Some("no\u{0}thanks"))
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "note");
}

#[tokio::test]
async fn a_body_that_is_an_array_is_422_even_where_every_field_is_optional() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("new", &client, &creative).await;
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/orders/{order}"),
            Some(&client.token),
        )
        .header("Content-Type", "application/json")
        .body("[null, null]")
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "invalid_type");
    assert_eq!(
        app.order(&client, &order).await["version"],
        1,
        "nothing changed"
    );
}
