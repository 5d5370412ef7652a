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

/// Every documented operation reaches a handler (not the router's 404 or 405), and no route is
/// registered that the document lacks: the two lists cannot drift apart.
#[tokio::test]
async fn the_router_and_the_document_list_the_same_operations() {
    let app = TestApp::spawn().await;
    let doc = docs::openapi();
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented += 1;
            let concrete = path.replace("{id}", "01a22484-e200-7538-9d6c-8fdc52d04511");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = app
                .client
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_default();
            assert_ne!(
                body["detail"], "No route matches this path.",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
    // Each `.route(web::…)` in a resource module registers one operation.
    fn count_routes(dir: &std::path::Path, top: bool) -> usize {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                n += count_routes(&path, false);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !(top && path.file_name().unwrap() == "mod.rs")
            {
                n += std::fs::read_to_string(&path)
                    .unwrap()
                    .matches(".route(web::")
                    .count();
            }
        }
        n
    }
    let http = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let registered = count_routes(&http, true);
    assert_eq!(
        registered, documented,
        "{registered} routes are registered in src/http but {documented} operations documented: \
         give every route its #[utoipa::path] and list it in its module's Api"
    );
}
