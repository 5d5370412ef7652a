use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use createspace::db::schema::outbox_events;

use crate::helpers::{
    json_ok, problem, reset_token_for, sid_of, token_left_in_outbox, TestApp, JWT_SECRET, PASSWORD,
};

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/v1/me", token).await.status()
}

fn claims_for(user: uuid::Uuid, sid: uuid::Uuid, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": user, "sid": sid, "iat": now, "exp": now + exp_offset, "jti": uuid::Uuid::now_v7()})
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn register_login_me_refresh_reuse_and_logout() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;

    // login
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "ADA@example.com ", "password": PASSWORD}),
        )
        .await;
    let login = json_ok(res, StatusCode::OK).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 900);
    assert_eq!(login["user"]["email"], "ada@example.com");
    let access = login["access_token"].as_str().unwrap();
    let first_refresh = login["refresh_token"].as_str().unwrap().to_string();

    // me
    let me = json_ok(app.get("/v1/me", access).await, StatusCode::OK).await;
    assert_eq!(me["id"], ada.id.to_string());
    assert!(me.get("password_hash").is_none());

    // refresh rotates
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": first_refresh}),
        )
        .await;
    let rotated = json_ok(res, StatusCode::OK).await;
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(
        me_status(&app, rotated["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );

    // the session rotates on
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": second_refresh}),
        )
        .await;
    let third = json_ok(res, StatusCode::OK).await;
    let third_refresh = third["refresh_token"].as_str().unwrap().to_string();
    let third_access = third["access_token"].as_str().unwrap().to_string();

    // presenting a retired token again (its successor already used: no retry, a replay) revokes
    // the session: the newest refresh token and its access token die too
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": first_refresh}),
        )
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": third_refresh}),
        )
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        me_status(&app, &third_access).await,
        StatusCode::UNAUTHORIZED
    );

    // the registration session is another family and still works; logout ends it
    let res = app
        .post(
            "/v1/auth/logout",
            None,
            &json!({"refresh_token": ada.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": ada.refresh_token}),
        )
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let wrong = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "ada@example.com", "password": "not the password"}),
        )
        .await;
    let wrong = problem(wrong, StatusCode::UNAUTHORIZED).await;
    let unknown = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    let unknown = problem(unknown, StatusCode::UNAUTHORIZED).await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn duplicate_email_is_409_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let res = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": " Ada@Example.com", "password": PASSWORD, "display_name": "Other"}),
        )
        .await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "email_taken");
}

#[tokio::test]
async fn invalid_registration_is_422_naming_every_field() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": "not-an-email", "password": "short", "display_name": "  "}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["email", "display_name"]);

    let res = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": "ada@example.com", "password": "ada@example.com", "display_name": "Ada"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert_eq!(body["errors"][0]["code"], "same_as_email");
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_email() {
    let app = TestApp::spawn_with(|s| s.rate_limits.login_per_email_per_minute = 3).await;
    app.register("ada").await;
    let guess = json!({"email": "ada@example.com", "password": "guess guess guess"});
    let attempt = || app.post("/v1/auth/login", None, &guess);
    for _ in 0..3 {
        assert_eq!(attempt().await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = attempt().await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["code"], "rate_limited");
    // even the right password is refused until the budget recovers
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_ip() {
    let app = TestApp::spawn_with(|s| s.rate_limits.login_per_ip_per_minute = 2).await;
    for i in 0..2 {
        let res = app
            .post(
                "/v1/auth/login",
                None,
                &json!({"email": format!("u{i}@example.com"), "password": "guess guess"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "u9@example.com", "password": "guess guess"}),
        )
        .await;
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn forged_and_stale_tokens_are_401() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    assert_eq!(me_status(&app, &ada.token).await, StatusCode::OK);
    let kid = kid_of(&ada.token);
    let claims = claims_for(ada.id, sid_of(&ada.token), 600);

    // alg: none
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // another algorithm, same secret
    let mut hs512 = Header::new(Algorithm::HS512);
    hs512.kid = Some(kid.clone());
    let wrong_alg = jsonwebtoken::encode(
        &hs512,
        &claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    // tampered payload, original signature
    let parts: Vec<&str> = ada.token.split('.').collect();
    let other_claims = claims_for(uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), 600);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(other_claims.to_string()),
        parts[2]
    );
    // expired
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some(kid.clone());
    let expired = jsonwebtoken::encode(
        &hs256,
        &claims_for(ada.id, sid_of(&ada.token), -120),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    // signed with a key the server does not know, claiming the known kid
    let wrong_key = jsonwebtoken::encode(
        &hs256,
        &claims,
        &EncodingKey::from_secret(b"another-secret-that-is-long-enough-to-use"),
    )
    .unwrap();

    for (name, token) in [
        ("alg none", none),
        ("wrong alg", wrong_alg),
        ("tampered", tampered),
        ("expired", expired),
        ("wrong key", wrong_key),
        ("garbage", "not.a.jwt".to_string()),
    ] {
        let res = app.get("/v1/me", &token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{name}");
    }
}

#[tokio::test]
async fn tokens_of_disabled_or_deleted_users_are_401() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    app.sql(&format!(
        "UPDATE users SET disabled_at = now() WHERE id = '{}'",
        ada.id
    ))
    .await;
    assert_eq!(me_status(&app, &ada.token).await, StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": ada.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": ada.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    app.sql(&format!("DELETE FROM users WHERE id = '{}'", bob.id))
        .await;
    assert_eq!(me_status(&app, &bob.token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rotated_key_still_verifies_through_previous_secrets() {
    let old = TestApp::spawn().await;
    let ada = old.register("ada").await;
    let new_secret = "the-new-secret-that-is-at-least-32-characters";

    let rotated = TestApp::spawn_with(|s| {
        s.jwt.secret = new_secret.into();
        s.jwt.previous_secrets = vec![JWT_SECRET.into()];
    })
    .await;
    let bob = rotated.register("bob").await;
    assert_ne!(kid_of(&bob.token), kid_of(&ada.token));
    // The same account exists in the new app's database, so the token's subject is known there.
    rotated
        .sql(&format!(
            "INSERT INTO users (id, email, password_hash, display_name) VALUES ('{}', '{}', 'x', 'ada')",
            ada.id, ada.email
        ))
        .await;
    rotated
        .sql(&format!(
            "INSERT INTO sessions (id, user_id, expires_at) VALUES ('{}', '{}', now() + interval '1 day')",
            sid_of(&ada.token),
            ada.id
        ))
        .await;
    assert_eq!(me_status(&rotated, &ada.token).await, StatusCode::OK);

    let forgotten = TestApp::spawn_with(|s| s.jwt.secret = new_secret.into()).await;
    assert_eq!(
        me_status(&forgotten, &ada.token).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn password_reset_end_to_end() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;

    // unknown accounts get the same answer and no event
    let res = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mut conn = app.conn().await;
    let events: i64 = outbox_events::table
        .filter(outbox_events::event_type.eq("user.password_reset_requested"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(events, 0, "no reset for an account that does not exist");

    let res = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = reset_token_for(&app, ada.id)
        .await
        .expect("a reset event for ada");

    // a password that breaks the policy is refused and does not use the token up
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "password": "short"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "password");

    let new_password = "a completely new passphrase";
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // single use
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "password": "yet another passphrase"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "token");

    // every session was revoked, access tokens included; the old password is gone, the new one works
    let res = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": ada.refresh_token}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&app, &ada.token).await, StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": ada.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": ada.email, "password": new_password}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn expired_reset_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    app.post(
        "/v1/auth/password-reset",
        None,
        &json!({"email": ada.email}),
    )
    .await;
    let token = reset_token_for(&app, ada.id).await.unwrap();
    app.sql("UPDATE password_reset_tokens SET expires_at = now() - interval '1 minute'")
        .await;
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "password": "a completely new passphrase"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn password_reset_requests_are_rate_limited_apart_from_logins() {
    let app = TestApp::spawn_with(|s| s.rate_limits.login_per_email_per_minute = 2).await;
    app.register("ada").await;
    let ask = json!({"email": "ada@example.com"});
    for _ in 0..2 {
        let res = app.post("/v1/auth/password-reset", None, &ask).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let res = app.post("/v1/auth/password-reset", None, &ask).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // logging in still works: the budgets are separate
    let res = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_reset_token_leaves_no_plaintext_in_the_outbox() {
    // No worker: the mail is never sent, so only the expiry sweep can purge the token.
    let app = TestApp::spawn_with(|s| s.notifications.worker_in_serve = false).await;
    let ada = app.register("ada").await;
    let res = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": ada.email}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(token_left_in_outbox(&app, ada.id).await.is_some());
    createspace::jobs::run_once(&app.pool, &crate::helpers::test_settings().orders)
        .await
        .unwrap();
    assert!(
        token_left_in_outbox(&app, ada.id).await.is_some(),
        "a live token is purged too early"
    );
    app.sql(&format!(
        "UPDATE outbox_events SET payload = jsonb_set(payload, '{{expires_at}}', '\"2000-01-01T00:00:00Z\"') \
         WHERE aggregate_id = '{}'",
        ada.id
    ))
    .await;
    createspace::jobs::run_once(&app.pool, &crate::helpers::test_settings().orders)
        .await
        .unwrap();
    assert_eq!(token_left_in_outbox(&app, ada.id).await, None);
}
