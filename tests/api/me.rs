use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{json_ok, problem, TestApp};

#[tokio::test]
async fn profile_fields_can_be_changed_and_cleared() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .patch(
            "/v1/me",
            &ada.token,
            &json!({"display_name": "Ada L.", "bio": "Illustrator", "avatar_url": "https://cdn.example.com/a.png", "time_zone": "Europe/London"}),
        )
        .await;
    assert_eq!(res.headers()["etag"], "\"2\"");
    let me = json_ok(res, StatusCode::OK).await;
    assert_eq!(me["display_name"], "Ada L.");
    assert_eq!(me["bio"], "Illustrator");
    assert_eq!(me["time_zone"], "Europe/London");

    let me = json_ok(
        app.patch("/v1/me", &ada.token, &json!({"bio": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["bio"], serde_json::Value::Null);
    assert_eq!(me["avatar_url"], "https://cdn.example.com/a.png");
}

#[tokio::test]
async fn mass_assignment_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for body in [
        json!({"is_admin": true}),
        json!({"display_name": "Eve", "email": "eve@example.com"}),
        json!({"id": uuid::Uuid::now_v7()}),
        json!({"version": 99}),
    ] {
        let res = app.patch("/v1/me", &ada.token, &body).await;
        let problem = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(problem["errors"][0]["code"], "unknown_field");
    }
    let me = json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;
    assert_eq!(me["is_admin"], false);
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["display_name"], "ada");
    assert_eq!(me["version"], 1);
}

#[tokio::test]
async fn invalid_profile_values_are_422() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .patch(
            "/v1/me",
            &ada.token,
            &json!({"avatar_url": "javascript:alert(1)", "time_zone": "not a zone"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn stale_if_match_is_412() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .request(reqwest::Method::PATCH, "/v1/me", Some(&ada.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"bio": "first"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(reqwest::Method::PATCH, "/v1/me", Some(&ada.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"bio": "second"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_version"], 2);
    let me = json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;
    assert_eq!(me["bio"], "first");
}
