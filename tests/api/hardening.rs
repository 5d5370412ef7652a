//! Regression tests for the outside review of accounts and orders (issue #9): one test per finding,
//! named after it, each failing on the code as it was reviewed.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{json_ok, problem, reset_token_for, TestApp};

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

// 3. (Medium) Password reset: other reset tokens, the plaintext in the outbox, live access tokens.
#[tokio::test]
async fn h03_a_password_reset_ends_every_token_of_the_account_at_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (other_access, other_refresh) = app.login(&ada).await;
    let ask_body = json!({"email": ada.email});
    let ask = || app.post("/v1/auth/password-reset", None, &ask_body);
    assert_eq!(ask().await.status(), StatusCode::ACCEPTED);
    let first = reset_token_for(&app, ada.id).await.unwrap();
    assert_eq!(ask().await.status(), StatusCode::ACCEPTED);
    let second = reset_token_for(&app, ada.id).await.unwrap();
    assert_ne!(first, second);

    let app = &app;
    let confirm = |token: String| async move {
        let body = json!({"token": token, "password": "a brand new passphrase"});
        app.post("/v1/auth/password-reset/confirm", None, &body)
            .await
    };
    assert_eq!(confirm(second).await.status(), StatusCode::NO_CONTENT);

    // (a) the other, older token is used up with it
    let body = problem(confirm(first).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "invalid_token");
    // (b) no plaintext token is left in the outbox
    assert_eq!(reset_token_for(app, ada.id).await, None);
    // (c) every session ends now, access tokens included, not in 15 minutes
    for access in [&ada.token, &other_access] {
        let res = app.get("/v1/me", access).await;
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    for refresh in [&ada.refresh_token, &other_refresh] {
        problem(app.refresh(refresh).await, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn h03_logout_ends_that_sessions_access_token_at_once_and_no_other() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (other_access, _) = app.login(&ada).await;
    let res = app
        .post(
            "/v1/auth/logout",
            None,
            &json!({"refresh_token": ada.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get("/v1/me", &ada.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        app.get("/v1/me", &other_access).await.status(),
        StatusCode::OK
    );
}

// 8. (Low) Refresh without grace.
#[tokio::test]
async fn h08_two_simultaneous_refreshes_with_one_token_get_the_same_successor() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (a, b) = tokio::join!(
        app.refresh(&ada.refresh_token),
        app.refresh(&ada.refresh_token)
    );
    let a = json_ok(a, StatusCode::OK).await;
    let b = json_ok(b, StatusCode::OK).await;
    assert_eq!(a["refresh_token"], b["refresh_token"]);
    // The winner's token was not revoked: the user stays logged in.
    let next = a["refresh_token"].as_str().unwrap();
    let res = app.refresh(next).await;
    json_ok(res, StatusCode::OK).await;
    for access in [&a["access_token"], &b["access_token"]] {
        assert_eq!(
            app.get("/v1/me", access.as_str().unwrap()).await.status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn h08_a_session_has_an_absolute_lifetime_that_refreshing_does_not_extend() {
    let app = TestApp::spawn_with(|s| s.jwt.session_max_age = Duration::from_secs(3600)).await;
    let ada = app.register("ada").await;
    let refreshed = json_ok(app.refresh(&ada.refresh_token).await, StatusCode::OK).await;
    // The refresh token's own lifetime (30 days) is cut to the session's hour.
    let mut conn = app.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Ends {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        within: bool,
    }
    let ends: Ends = diesel::sql_query(
        "SELECT bool_and(r.expires_at <= s.expires_at AND s.expires_at <= now() + interval '1 hour') \
         AS within FROM refresh_tokens r JOIN sessions s ON s.id = r.family_id",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(ends.within);
    // Once the session's lifetime is over, neither its refresh nor its access token works.
    app.sql("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .await;
    let next = refreshed["refresh_token"].as_str().unwrap();
    problem(app.refresh(next).await, StatusCode::UNAUTHORIZED).await;
    let access = refreshed["access_token"].as_str().unwrap();
    problem(app.get("/v1/me", access).await, StatusCode::UNAUTHORIZED).await;
}
