//! The command line, run as the real binary against the test's database.

use std::process::Command;

use reqwest::StatusCode;

use crate::helpers::{json_ok, TestApp};

fn createspace(app: &TestApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_createspace"))
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn admin_grant_and_revoke_flip_the_flag() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;

    let out = createspace(&app, &["admin", "grant", " ADA@example.com"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me = json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;
    assert_eq!(me["is_admin"], true);

    let out = createspace(&app, &["admin", "revoke", "ada@example.com"]);
    assert!(out.status.success());
    let me = json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;
    assert_eq!(me["is_admin"], false);
}

#[tokio::test]
async fn admin_grant_for_an_unknown_email_fails_with_one_line() {
    let app = TestApp::spawn().await;
    let out = createspace(&app, &["admin", "grant", "nobody@example.com"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no account has the email nobody@example.com"),
        "{stderr}"
    );
}

#[test]
fn bad_configuration_stops_with_one_line_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_createspace"))
        .arg("migrate")
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PORT"), "{stderr}");
}

#[test]
fn openapi_prints_the_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_createspace"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
}
