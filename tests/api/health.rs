use reqwest::StatusCode;

use crate::helpers::{json_ok, problem, TestApp};

#[tokio::test]
async fn healthz_answers_while_the_process_is_up() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(json_ok(res, StatusCode::OK).await["status"], "ok");
}

#[tokio::test]
async fn readyz_is_ready_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(json_ok(res, StatusCode::OK).await["status"], "ready");
}

#[tokio::test]
async fn readyz_is_503_problem_when_the_database_is_unreachable() {
    let app = TestApp::spawn_without_database().await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = problem(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["code"], "service_unavailable");
}

#[tokio::test]
async fn a_callers_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
}

#[tokio::test]
async fn a_request_id_is_generated_when_absent_or_unsafe() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let res = app
        .client
        .get(app.url("/healthz"))
        .header("X-Request-Id", "evil\tvalue with spaces")
        .send()
        .await
        .unwrap();
    let replaced = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
}

#[tokio::test]
async fn errors_carry_the_request_id_too() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/no/such/route"))
        .header("X-Request-Id", "req-404")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-404");
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app =
        TestApp::spawn_with(|s| s.cors_allowed_origins = vec!["https://app.example.com".into()])
            .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/v1/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    assert_eq!(
        problem(refused, StatusCode::BAD_REQUEST).await["code"],
        "cors_refused"
    );
}
