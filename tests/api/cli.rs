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

#[tokio::test]
async fn seeded_demo_data_is_usable_through_the_api() {
    let app = TestApp::spawn().await;
    let out = createspace(&app, &["seed", "--demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("user1@seed.example"));
    let login =
        serde_json::json!({"email": "user1@seed.example", "password": createspace::seed::PASSWORD});
    let tokens = json_ok(
        app.post("/v1/auth/login", None, &login).await,
        StatusCode::OK,
    )
    .await;
    let token = tokens["access_token"].as_str().unwrap();
    let orders = json_ok(app.get("/v1/orders?limit=100", token).await, StatusCode::OK).await;
    let orders = orders["data"].as_array().unwrap();
    assert!(!orders.is_empty(), "the client has orders");
    let id = orders[0]["id"].as_str().unwrap();
    let thread = json_ok(
        app.get(&format!("/v1/orders/{id}/messages"), token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(thread["data"].as_array().unwrap().len(), 4);
    let history = json_ok(
        app.get(&format!("/v1/orders/{id}/transitions"), token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!history["data"].as_array().unwrap().is_empty());
    json_ok(app.get("/v1/dashboard", token).await, StatusCode::OK).await;
    // Seeding twice is refused, with one line saying so.
    let again = createspace(&app, &["seed", "--demo"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already seeded"));
}

#[tokio::test]
async fn ledger_check_passes_on_real_money_moves_and_names_what_is_off() {
    let app = TestApp::spawn().await;
    let d = crate::payments::deal(&app, "in_progress", 10_000).await;
    crate::payments::pay_with(&app, &d, "pm_card_visa").await;
    let out = createspace(&app, &["ledger", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // An account whose balance no longer matches its entries (as a faulty hand edit would leave it).
    app.sql("UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'escrow'")
        .await;
    let out = createspace(&app, &["ledger", "check"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(escrow) has balance 10001 but its entries sum to 10000"),
        "{stdout}"
    );

    // The database itself refuses a transaction that does not balance, and any change to history.
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    let unbalanced = diesel::sql_query(
        "WITH t AS (INSERT INTO ledger_transactions (id, kind) VALUES (gen_random_uuid(), 'forged') RETURNING id) \
         INSERT INTO ledger_entries (transaction_id, account_id, amount, currency) \
         SELECT t.id, a.id, 500, 'EUR' FROM t, ledger_accounts a WHERE a.kind = 'escrow'",
    )
    .execute(&mut conn)
    .await;
    assert!(unbalanced
        .unwrap_err()
        .to_string()
        .contains("does not balance"));
    let rewrite = diesel::sql_query("UPDATE ledger_entries SET amount = amount * 2")
        .execute(&mut conn)
        .await;
    assert!(rewrite.unwrap_err().to_string().contains("append-only"));
}
