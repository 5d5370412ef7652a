use reqwest::StatusCode;
use serde_json::Value;

use createspace::http::docs;

use crate::helpers::TestApp;

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(docs::COMMITTED_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = docs::to_pretty_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; regenerate it with \
         `cargo run -- openapi > openapi/openapi.json` and commit the result"
    );
}

#[test]
fn every_operation_is_named_documented_and_has_problem_responses() {
    let doc: Value = serde_json::from_str(&docs::to_pretty_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(op["operationId"].is_string(), "{name} has no operationId");
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{name} is undescribed"
            );
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/v1/") {
                assert!(
                    responses.keys().any(|k| k.starts_with('4')),
                    "{name} documents no error response"
                );
            }
            let protected = op.get("security").is_some();
            if protected {
                assert!(
                    responses.contains_key("401"),
                    "{name} is protected but has no 401"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
}

#[tokio::test]
async fn the_document_and_swagger_ui_are_served() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let served: Value = res.json().await.unwrap();
    assert_eq!(served, docs::openapi());

    let res = app
        .client
        .get(app.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().to_lowercase().contains("swagger"));

    let res = app.client.get(app.url("/swagger-ui")).send().await.unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/swagger-ui/");
}
