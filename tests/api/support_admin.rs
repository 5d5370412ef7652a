//! The support team's tools over HTTP: accounts, disputes, due dates, and the audit log of it all.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

async fn audit(app: &TestApp, admin: &TestUser, query: &str) -> Vec<Value> {
    let page = json_ok(
        app.get(&format!("/v1/admin/audit-log?{query}"), &admin.token)
            .await,
        StatusCode::OK,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

async fn resolve(app: &TestApp, admin: &TestUser, order: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/v1/admin/orders/{order}/dispute-resolution"),
        Some(&admin.token),
        &body,
    )
    .await
}

#[tokio::test]
async fn a_disabled_users_live_tokens_stop_working_at_once_and_enabling_lets_them_sign_in() {
    let app = TestApp::spawn().await;
    let (ada, support) = (
        app.register("ada").await,
        app.register_admin("support").await,
    );
    let (_, refresh) = app.login(&ada).await;
    json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;

    let res = app
        .post(
            &format!("/v1/admin/users/{}/disable", ada.id),
            Some(&support.token),
            &json!({"reason": "Fraud reports"}),
        )
        .await;
    let user = json_ok(res, StatusCode::OK).await;
    assert!(user["disabled_at"].is_string());

    // The access token has not expired, yet the very next request is refused; so is refreshing.
    assert_eq!(
        app.get("/v1/me", &ada.token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(&refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": ada.email, "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);

    let entries = audit(&app, &support, &format!("target_id={}", ada.id)).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "user.disabled");
    assert_eq!(entries[0]["actor_id"], support.id.to_string());
    assert_eq!(entries[0]["after"]["reason"], "Fraud reports");
    assert!(entries[0]["request_id"].is_string());

    json_ok(
        app.post(
            &format!("/v1/admin/users/{}/enable", ada.id),
            Some(&support.token),
            &json!({"reason": "Cleared"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": ada.email, "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let own = app
        .post(
            &format!("/v1/admin/users/{}/disable", support.id),
            Some(&support.token),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        problem(own, StatusCode::CONFLICT).await["code"],
        "own_account"
    );
}

#[tokio::test]
async fn support_finds_users_and_sees_their_orders_and_tickets() {
    let app = TestApp::spawn().await;
    let (client, creative, support) = (
        app.register("Grace_Hopper").await,
        app.register("creative").await,
        app.register_admin("support").await,
    );
    let order = app.place_order(&client, &creative).await;
    crate::support::simple_ticket(&app, &client).await;
    let found = json_ok(
        app.get("/v1/admin/users?q=grace_", &support.token).await,
        StatusCode::OK,
    )
    .await;
    let found = found["data"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], client.id.to_string());
    // `_` is a literal, not a wildcard.
    let none = json_ok(
        app.get("/v1/admin/users?q=grace%25hopper", &support.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(none["data"].as_array().unwrap().is_empty());

    let detail = json_ok(
        app.get(&format!("/v1/admin/users/{}", client.id), &support.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(detail["orders"][0]["id"], order["id"]);
    assert_eq!(detail["tickets"].as_array().unwrap().len(), 1);

    let res = app
        .post(
            &format!("/v1/admin/users/{}/password-reset", client.id),
            Some(&support.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(crate::helpers::reset_token_for(&app, client.id)
        .await
        .is_some());
    assert_eq!(
        audit(&app, &support, "action=user.password_reset_sent")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn dispute_resolution_moves_the_order_and_writes_the_audit_entry_in_one_go() {
    let app = TestApp::spawn().await;
    let (client, creative, support) = (
        app.register("client").await,
        app.register("creative").await,
        app.register_admin("support").await,
    );
    let id = app.order_in("disputed", &client, &creative).await;

    // A bare move out of `disputed` points to the one use case.
    let bare = app.transition(&support, &id, "completed", Some("x")).await;
    let body = problem(bare, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "dispute_resolution_required");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("dispute-resolution"));

    // Money the escrow does not hold cannot be refunded; nothing moves.
    let res = resolve(
        &app,
        &support,
        &id,
        json!({"outcome": "cancelled", "note": "n",
        "client_refund": {"amount": 100, "currency": "EUR"}}),
    )
    .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "exceeds_escrow");
    assert_eq!(app.order(&client, &id).await["status"], "disputed");
    assert!(audit(&app, &support, &format!("target_id={id}"))
        .await
        .is_empty());

    // Decided on a stale view of the order: 412, nothing moves.
    let stale = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/admin/orders/{id}/dispute-resolution"),
            Some(&support.token),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"outcome": "completed", "note": "n"}))
        .send()
        .await
        .unwrap();
    let current = app.order(&client, &id).await["version"].clone();
    assert_eq!(
        problem(stale, StatusCode::PRECONDITION_FAILED).await["current_version"],
        current
    );
    let res = resolve(
        &app,
        &support,
        &id,
        json!({"outcome": "completed", "note": "The delivery matches the brief."}),
    )
    .await;
    let order = json_ok(res, StatusCode::OK).await;
    assert_eq!(order["status"], "completed");
    let history = json_ok(
        app.get(&format!("/v1/orders/{id}/transitions"), &client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to"], "completed");
    assert_eq!(last["actor_role"], "admin");
    let entries = audit(&app, &support, &format!("target_id={id}")).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "order.dispute_resolved");
    assert_eq!(entries[0]["before"]["status"], "disputed");
    assert_eq!(entries[0]["after"]["status"], "completed");

    let again = resolve(
        &app,
        &support,
        &id,
        json!({"outcome": "cancelled", "note": "n"}),
    )
    .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "not_disputed"
    );
}

#[tokio::test]
async fn an_admin_who_is_the_orders_client_cannot_resolve_its_dispute() {
    let app = TestApp::spawn().await;
    let (boss, creative) = (
        app.register_admin("boss").await,
        app.register("creative").await,
    );
    let id = app.order_in("disputed", &boss, &creative).await;
    let res = resolve(
        &app,
        &boss,
        &id,
        json!({"outcome": "cancelled", "note": "mine"}),
    )
    .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "own_order"
    );
    let res = app
        .post(
            &format!("/v1/admin/orders/{id}/due-date"),
            Some(&boss.token),
            &json!({"due_at": "2030-01-01T00:00:00Z", "note": "n"}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "own_order"
    );
    assert_eq!(app.order(&creative, &id).await["status"], "disputed");
}

#[tokio::test]
async fn support_gives_more_time_and_both_parties_hear_of_it() {
    let app = TestApp::spawn().await;
    let (client, creative, support) = (
        app.register("client").await,
        app.register("creative").await,
        app.register_admin("support").await,
    );
    let id = app.order_in("in_progress", &client, &creative).await;
    let before = app.order(&client, &id).await;
    let due: chrono::DateTime<chrono::Utc> = before["due_at"].as_str().unwrap().parse().unwrap();
    let earlier = (due - chrono::Duration::days(1)).to_rfc3339();
    let res = app
        .post(
            &format!("/v1/admin/orders/{id}/due-date"),
            Some(&support.token),
            &json!({"due_at": earlier, "note": "n"}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "not_later"
    );
    let later = (due + chrono::Duration::days(7)).to_rfc3339();
    let res = app
        .post(
            &format!("/v1/admin/orders/{id}/due-date"),
            Some(&support.token),
            &json!({"due_at": later, "note": "Brief changed late."}),
        )
        .await;
    let order = json_ok(res, StatusCode::OK).await;
    let new_due: chrono::DateTime<chrono::Utc> = order["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(new_due, due + chrono::Duration::days(7));
    for party in [&client, &creative] {
        crate::payment_terms::wait_for_notification(&app, party, "order.due_date_extended").await;
    }
    assert_eq!(
        audit(&app, &support, "action=order.due_date_extended")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn admin_operations_are_403_for_users_and_401_without_a_token() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for path in [
        "/v1/admin/audit-log",
        "/v1/admin/users",
        "/v1/admin/tickets",
        "/v1/admin/dead-letters",
    ] {
        let res = app.get(path, &ada.token).await;
        assert_eq!(
            problem(res, StatusCode::FORBIDDEN).await["code"],
            "admin_only",
            "{path}"
        );
        let res = app
            .request(reqwest::Method::GET, path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_audit_log_refuses_changes_even_from_the_database_owner() {
    let app = TestApp::spawn().await;
    let (ada, support) = (
        app.register("ada").await,
        app.register_admin("support").await,
    );
    app.post(
        &format!("/v1/admin/users/{}/disable", ada.id),
        Some(&support.token),
        &json!({"reason": "r"}),
    )
    .await;
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    for statement in [
        "UPDATE audit_log SET action = 'user.enabled'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let refused = diesel::sql_query(statement).execute(&mut conn).await;
        let err = refused.expect_err(statement).to_string();
        assert!(err.contains("append-only"), "{statement}: {err}");
    }
    assert_eq!(audit(&app, &support, "").await.len(), 1);
}

#[tokio::test]
async fn an_admin_cannot_hide_a_review_of_their_own_work() {
    let app = TestApp::spawn().await;
    let (client, creative_admin) = (
        app.register("client").await,
        app.register_admin("boss").await,
    );
    let order = app.order_in("completed", &client, &creative_admin).await;
    let path = format!("/v1/orders/{order}/reviews");
    let review = json_ok(
        app.post(&path, Some(&client.token), &json!({"rating": 1}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    json_ok(
        app.post(&path, Some(&creative_admin.token), &json!({"rating": 5}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = review["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/v1/admin/reviews/{id}/hide"),
            Some(&creative_admin.token),
            &json!({"reason": "I dislike it."}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "own_order"
    );
    assert!(audit(&app, &creative_admin, "").await.is_empty());
}
