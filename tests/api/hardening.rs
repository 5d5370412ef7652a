//! Regression tests for the outside review of accounts and orders (issue #9): one test per finding,
//! named after it, each failing on the code as it was reviewed.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, reset_token_for, token_left_in_outbox, TestApp, PASSWORD};

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
    assert_eq!(token_left_in_outbox(app, ada.id).await, None);
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
    app.logout(&ada).await;
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

fn default_limits() -> createspace::config::RateLimitSettings {
    createspace::config::Settings::from_lookup(&|_| None)
        .unwrap()
        .rate_limits
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds")
}

// 4. (Medium) Resource exhaustion through Argon2.
#[tokio::test]
async fn h04_a_burst_of_registrations_and_logins_leaves_authenticated_requests_answering() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let burst = (0..50).map(|i| {
        let app = &app;
        let ada = &ada;
        async move {
            if i % 2 == 0 {
                let body = json!({"email": format!("burst{i}@example.com"),
                                  "password": PASSWORD, "display_name": "Burst"});
                app.post("/v1/auth/register", None, &body).await
            } else {
                let body = json!({"email": ada.email, "password": PASSWORD});
                app.post("/v1/auth/login", None, &body).await
            }
        }
    });
    let me = async {
        let mut statuses = Vec::new();
        for _ in 0..10 {
            statuses.push(app.get("/v1/me", &ada.token).await.status());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        statuses
    };
    let (answers, me) = tokio::join!(futures_util::future::join_all(burst), me);
    assert!(
        me.iter().all(|s| *s == StatusCode::OK),
        "GET /v1/me during the burst: {me:?}"
    );
    let mut busy = 0;
    for res in &answers {
        match res.status() {
            StatusCode::OK | StatusCode::CREATED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry_after(res) >= 1);
                busy += 1;
            }
            other => panic!("unexpected {other} in the burst"),
        }
    }
    // 50 at once against 2 running + 16 waiting: the rest are told to come back, at once.
    assert!(busy > 0, "the hashing queue never filled");
}

#[tokio::test]
async fn h04_registration_is_limited_per_client_at_its_default() {
    let app = TestApp::spawn_with(|s| s.rate_limits = default_limits()).await;
    for i in 0..5 {
        app.register(&format!("user{i}")).await;
    }
    let body = json!({"email": "one-more@example.com", "password": PASSWORD, "display_name": "X"});
    let res = app.post("/v1/auth/register", None, &body).await;
    assert!(retry_after(&res) >= 1);
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

// 5. (Medium) Order spam.
#[tokio::test]
async fn h05_order_creation_is_limited_per_user_at_its_default() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits = createspace::config::RateLimitSettings {
            orders_per_user_per_hour: default_limits().orders_per_user_per_hour,
            ..createspace::config::RateLimitSettings::unlimited()
        }
    })
    .await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    for _ in 0..30 {
        app.place_order(&client, &creative).await;
    }
    let body = json!({"creative_id": creative.id, "title": "One more", "requirements": "x",
        "price": {"amount": 100, "currency": "EUR"},
        "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()});
    let res = app.post("/v1/orders", Some(&client.token), &body).await;
    assert!(retry_after(&res) > 60, "an hourly budget refills slowly");
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    // Another client is not held back by this one.
    let other = app.register("other").await;
    app.place_order(&other, &creative).await;
}

#[tokio::test]
async fn h05_service_and_cancellation_request_creation_are_limited_at_their_defaults() {
    let app = TestApp::spawn_with(|s| {
        let d = default_limits();
        s.rate_limits = createspace::config::RateLimitSettings {
            services_per_user_per_hour: d.services_per_user_per_hour,
            cancellation_requests_per_user_per_hour: d.cancellation_requests_per_user_per_hour,
            ..createspace::config::RateLimitSettings::unlimited()
        }
    })
    .await;
    let ada = app.register("ada").await;
    for _ in 0..20 {
        app.create_service(&ada).await;
    }
    let body = json!({"title": "One more", "description": "x",
        "price": {"amount": 100, "currency": "EUR"}, "delivery_days": 3, "revisions_included": 0});
    problem(
        app.post("/v1/services", Some(&ada.token), &body).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    // Every attempt counts, answered or not: ten on orders that do not exist, then the budget is out.
    let reason = json!({"reason": "Please."});
    for _ in 0..10 {
        let path = format!("/v1/orders/{}/cancellation-request", uuid::Uuid::now_v7());
        let res = app.post(&path, Some(&ada.token), &reason).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    let path = format!("/v1/orders/{}/cancellation-request", uuid::Uuid::now_v7());
    problem(
        app.post(&path, Some(&ada.token), &reason).await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
}

// 9. (Low) The login limiter.
#[tokio::test]
async fn h09_a_huge_login_email_is_422() {
    let app = TestApp::spawn().await;
    let body = json!({"email": format!("{}@example.com", "a".repeat(200_000)), "password": "x"});
    let res = app.post("/v1/auth/login", None, &body).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn h09_a_guesser_elsewhere_cannot_lock_the_owner_out_and_ipv6_is_limited_per_64() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits = default_limits();
        s.trusted_proxies = vec![createspace::config::IpNet::parse("127.0.0.1").unwrap()];
    })
    .await;
    let ada = app.register("ada").await;
    let login_from = |client: &str, email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        app.request(reqwest::Method::POST, "/v1/auth/login", None)
            .header("x-forwarded-for", client)
            .json(&body)
            .send()
    };
    // The default: 10 tries a minute per email from one client.
    for _ in 0..10 {
        let res = login_from("203.0.113.9", &ada.email, "wrong password")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from("203.0.113.9", &ada.email, PASSWORD)
        .await
        .unwrap();
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    let res = login_from("198.51.100.7", &ada.email, PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the owner, elsewhere, logs in"
    );

    // One IPv6 host owns its /64: 30 tries a minute (the default) across all of it.
    for i in 1..=30 {
        let client = format!("2001:db8:7:7::{i:x}");
        let res = login_from(&client, &format!("u{i}@example.com"), "x")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from("2001:db8:7:7:ffff::1", "last@example.com", "x")
        .await
        .unwrap();
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

// 10. (Low) Enumeration: registration answers 409, by decision, and says so.
#[tokio::test]
async fn h10_registering_a_taken_email_is_a_documented_409() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"email": ada.email, "password": PASSWORD, "display_name": "Ada"});
    let res = app.post("/v1/auth/register", None, &body).await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "email_taken"
    );
    let doc = createspace::http::docs::openapi();
    let register = &doc["paths"]["/v1/auth/register"]["post"];
    let description = register["description"].as_str().unwrap();
    assert!(description.contains("email_taken") && description.contains("deliberate"));
    assert!(register["responses"]["429"].is_object());
}

// 11. (Low) Idempotency keys reclaimed without an owner.
#[tokio::test]
async fn h11_a_reclaimed_idempotency_key_cannot_be_completed_or_released_by_its_old_holder() {
    use createspace::db::idempotency::{claim_key, complete_key, release_key, KeyClaim};
    use createspace::domain::ids::UserId;
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let user = UserId::from_uuid(ada.id);
    let mut conn = app.conn().await;
    let KeyClaim::Claimed(slow) = claim_key(&mut conn, user, "k1", b"hash").await.unwrap() else {
        panic!("a fresh key is claimed");
    };
    // The slow request is still running a minute later; its client retries.
    app.sql("UPDATE idempotency_keys SET created_at = now() - interval '61 seconds'")
        .await;
    let KeyClaim::Claimed(retry) = claim_key(&mut conn, user, "k1", b"hash").await.unwrap() else {
        panic!("a stale in-flight key is reclaimed");
    };
    assert_ne!(slow, retry);
    // The slow one can neither free the retry's claim nor record its answer.
    release_key(&mut conn, user, "k1", slow).await.unwrap();
    let headers = json!({});
    let body = json!({"id": "slow"});
    let recorded = complete_key(&mut conn, user, "k1", slow, 201, &headers, &body);
    assert!(!recorded.await.unwrap());
    let body = json!({"id": "retry"});
    let recorded = complete_key(&mut conn, user, "k1", retry, 201, &headers, &body);
    assert!(recorded.await.unwrap());
    let KeyClaim::Existing(row) = claim_key(&mut conn, user, "k1", b"hash").await.unwrap() else {
        panic!("the retry's answer is kept");
    };
    assert_eq!(row.response_body.unwrap()["id"], "retry");
}

// 1. (High) Unilateral cancellation after on-time delivery.
#[tokio::test]
async fn h01_a_revision_of_on_time_work_gives_a_fresh_deadline_so_the_client_cannot_cancel_alone() {
    let app = TestApp::spawn_with(|s| s.orders.late_cancel_after = Duration::from_secs(2)).await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("delivered", &client, &creative).await;
    // Time passes: delivered a second before the deadline, which is now ten seconds gone (more
    // than LATE_CANCEL_AFTER), and the client has not accepted yet.
    app.sql(&format!(
        "UPDATE orders SET due_at = now() - interval '10 seconds', \
         delivered_at = now() - interval '11 seconds' WHERE id = '{id}'"
    ))
    .await;
    let res = app.transition(&client, &id, "in_progress", None).await;
    let revised = json_ok(res, StatusCode::OK).await;
    let due: chrono::DateTime<chrono::Utc> = revised["due_at"].as_str().unwrap().parse().unwrap();
    assert!(
        due > chrono::Utc::now() + chrono::Duration::hours(47),
        "a fair new deadline: {due}"
    );
    assert_eq!(revised["late"], false);
    let res = app.transition(&client, &id, "cancelled", None).await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "not_late_enough");
    assert_eq!(app.order(&client, &id).await["status"], "in_progress");
}

// 2. (Medium) The client moves a service order's deadline.
#[tokio::test]
async fn h02_the_client_cannot_move_a_service_orders_deadline() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let service = app.create_service(&creative).await;
    let res = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"service_id": service["id"], "requirements": "A fox."}),
        )
        .await;
    let order = json_ok(res, StatusCode::CREATED).await;
    let id = order["id"].as_str().unwrap();
    let soon = (chrono::Utc::now() + chrono::Duration::minutes(2)).to_rfc3339();
    let res = app
        .patch(
            &format!("/v1/orders/{id}"),
            &client.token,
            &json!({"due_at": soon}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "due_at");
    assert_eq!(body["errors"][0]["code"], "not_allowed");
    let now = app.order(&client, id).await;
    assert_eq!(now["due_at"], order["due_at"]);
    assert_eq!(now["version"], order["version"]);
    // A custom order's deadline is the client's offer and may still change while it is `new`.
    let custom = app.place_order(&client, &creative).await;
    let later = (chrono::Utc::now() + chrono::Duration::days(9)).to_rfc3339();
    let res = app
        .patch(
            &format!("/v1/orders/{}", custom["id"].as_str().unwrap()),
            &client.token,
            &json!({"due_at": later}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// 5. (Medium) Order spam: a creative can close custom orders to strangers.
#[tokio::test]
async fn h05_a_creative_can_take_custom_orders_from_past_clients_only() {
    let app = TestApp::spawn().await;
    let (past, stranger) = (app.register("past").await, app.register("stranger").await);
    let creative = app.register("creative").await;
    app.order_in("completed", &past, &creative).await;
    let res = app
        .patch(
            "/v1/me",
            &creative.token,
            &json!({"custom_orders": "past_clients"}),
        )
        .await;
    assert_eq!(
        json_ok(res, StatusCode::OK).await["custom_orders"],
        "past_clients"
    );
    let body = json!({"creative_id": creative.id, "title": "Cheap logo!!", "requirements": "x",
        "price": {"amount": 100, "currency": "EUR"},
        "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()});
    let res = app.post("/v1/orders", Some(&stranger.token), &body).await;
    let refused = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["errors"][0]["code"], "custom_orders_closed");
    app.place_order(&past, &creative).await;
    // Services stay open to everyone.
    let service = app.create_service(&creative).await;
    let res = app
        .post(
            "/v1/orders",
            Some(&stranger.token),
            &json!({"service_id": service["id"], "requirements": "A fox."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

// 6. (Low–Medium) Cancellation requests.
async fn request_cancellation(
    app: &TestApp,
    user: &crate::helpers::TestUser,
    id: &str,
) -> reqwest::Response {
    app.post(
        &format!("/v1/orders/{id}/cancellation-request"),
        Some(&user.token),
        &json!({"reason": "Plans changed."}),
    )
    .await
}

async fn answer(app: &TestApp, user: &crate::helpers::TestUser, id: &str, accept: bool) {
    let res = app
        .post(
            &format!("/v1/orders/{id}/cancellation-request/response"),
            Some(&user.token),
            &json!({"decision": if accept { "accept" } else { "reject" }}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn h06_a_rejected_cancellation_request_cannot_be_reopened_at_once_nor_forever() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("in_progress", &client, &creative).await;
    assert_eq!(
        request_cancellation(&app, &client, &id).await.status(),
        StatusCode::CREATED
    );
    answer(&app, &creative, &id, false).await;
    let res = request_cancellation(&app, &client, &id).await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "cancellation_request_cooldown"
    );
    // A day later the client may ask again; after three requests, a dispute is the way.
    for _ in 0..2 {
        app.sql("UPDATE cancellation_requests SET resolved_at = now() - interval '25 hours'")
            .await;
        assert_eq!(
            request_cancellation(&app, &client, &id).await.status(),
            StatusCode::CREATED
        );
        answer(&app, &creative, &id, false).await;
    }
    app.sql("UPDATE cancellation_requests SET resolved_at = now() - interval '25 hours'")
        .await;
    let res = request_cancellation(&app, &client, &id).await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "cancellation_requests_exhausted"
    );
}

#[tokio::test]
async fn h06_silence_never_cancels_delivered_work_it_goes_to_a_dispute() {
    let app = TestApp::spawn_with(|s| {
        s.orders.cancellation_auto_accept_after = Duration::from_secs(1);
        s.orders.auto_complete_after = Duration::from_secs(3);
    })
    .await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("delivered", &client, &creative).await;
    let res = request_cancellation(&app, &client, &id).await;
    let request = json_ok(res, StatusCode::CREATED).await;
    let order = app.order(&client, &id).await;
    // Not before the order would have completed by itself.
    assert!(
        request["auto_accept_at"].as_str().unwrap() >= order["auto_complete_at"].as_str().unwrap()
    );
    // Past both deadlines: neither completed (the client objected) nor cancelled (the creative
    // was silent), but disputed, for support to decide.
    app.sql(&format!(
        "UPDATE orders SET auto_complete_at = now() - interval '1 second' WHERE id = '{id}'"
    ))
    .await;
    app.sql("UPDATE cancellation_requests SET auto_accept_at = now() - interval '1 second'")
        .await;
    let mut status = String::new();
    for _ in 0..50 {
        status = app.order(&client, &id).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status != "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "disputed");
}

// From the review of this work: a login verified while a reset committed opens no session.
#[tokio::test]
async fn h03_a_login_verified_against_a_replaced_password_opens_no_session() {
    use createspace::db::users;
    use createspace::domain::ids::UserId;
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = UserId::from_uuid(ada.id);
    let mut conn = app.conn().await;
    let old = users::find(&mut conn, id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(users::lock_if_password(&mut conn, id, &old).await.unwrap());
    let ask = json!({"email": ada.email});
    app.post("/v1/auth/password-reset", None, &ask).await;
    let token = reset_token_for(&app, ada.id).await.unwrap();
    let body = json!({"token": token, "password": "a brand new passphrase"});
    let res = app
        .post("/v1/auth/password-reset/confirm", None, &body)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // What the login verified against is no longer the password: it must not open a session.
    assert!(!users::lock_if_password(&mut conn, id, &old).await.unwrap());
    let new = users::find(&mut conn, id)
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(users::lock_if_password(&mut conn, id, &new).await.unwrap());
}

// From the review: a revision does not turn a pending request on delivered work into a cancellation.
#[tokio::test]
async fn h06_a_request_on_work_delivered_once_goes_to_a_dispute_even_after_a_revision() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("in_progress", &client, &creative).await;
    // Opened while in progress, then the work is delivered: silence may not answer it before the
    // order would have completed by itself.
    let request = json_ok(
        request_cancellation(&app, &client, &id).await,
        StatusCode::CREATED,
    )
    .await;
    let delivered = json_ok(
        app.transition(&creative, &id, "delivered", Some("done"))
            .await,
        StatusCode::OK,
    )
    .await;
    let res = app
        .get(
            &format!("/v1/orders/{id}/cancellation-request"),
            &client.token,
        )
        .await;
    let now = json_ok(res, StatusCode::OK).await;
    assert!(now["auto_accept_at"].as_str() >= delivered["auto_complete_at"].as_str());
    assert!(now["auto_accept_at"].as_str() > request["auto_accept_at"].as_str());
    // The client asks for a revision, then nobody answers the request.
    json_ok(
        app.transition(&client, &id, "in_progress", None).await,
        StatusCode::OK,
    )
    .await;
    app.sql("UPDATE cancellation_requests SET auto_accept_at = now() - interval '1 second'")
        .await;
    let mut status = String::new();
    for _ in 0..50 {
        status = app.order(&client, &id).await["status"]
            .as_str()
            .unwrap()
            .to_string();
        if status != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, "disputed",
        "delivered work is never cancelled by silence"
    );
}

// From the review: a refresh retried across a key rotation still gets its successor.
#[tokio::test]
async fn h08_a_refresh_retried_across_a_key_rotation_gets_the_same_successor() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let first = json_ok(app.refresh(&ada.refresh_token).await, StatusCode::OK).await;
    // The next instance runs with a new key; the old one is a previous secret.
    let rotated = app.sibling(|s| {
        s.jwt.previous_secrets = vec![s.jwt.secret.clone()];
        s.jwt.secret = "a-rotated-secret-of-at-least-32-characters".into();
    });
    let retried = json_ok(rotated.refresh(&ada.refresh_token).await, StatusCode::OK).await;
    assert_eq!(retried["refresh_token"], first["refresh_token"]);
    let next = retried["refresh_token"].as_str().unwrap();
    json_ok(rotated.refresh(next).await, StatusCode::OK).await;
}

// From the review: a thread's order is the order messages were written, whatever the clocks say.
#[tokio::test]
async fn h10_a_message_written_with_a_clock_behind_still_sorts_after_the_thread() {
    use createspace::db::messages::{insert, MessageRow};
    use createspace::domain::ids::{OrderId, UserId};
    use createspace::domain::order::ActorRole;
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("new", &client, &creative).await;
    let posted = app.message(&client, &id, &json!({"body": "first"})).await;
    let first = json_ok(posted, StatusCode::CREATED).await;
    // Another instance, its clock a minute behind, writes the next message.
    let mut conn = app.conn().await;
    let order = OrderId::from_uuid(id.parse().unwrap());
    let mut late = MessageRow::user(
        order,
        UserId::from_uuid(creative.id),
        ActorRole::Creative,
        "second".into(),
    );
    let behind = uuid::Uuid::from_u128(late.id.as_uuid().as_u128() - (60_000u128 << 80));
    late.id = behind.into();
    insert(&mut conn, &mut late).await.unwrap();
    let after = format!(
        "/v1/orders/{id}/messages?after={}",
        first["id"].as_str().unwrap()
    );
    let page = json_ok(app.get(&after, &client.token).await, StatusCode::OK).await;
    assert_eq!(
        page["data"][0]["body"], "second",
        "a reader past the first message sees it"
    );
}

/// `GET /v1/orders/{id}` folds the session check into its one statement: a revoked session is
/// still a 401 there (not a 404 that would hide why), an admin still sees every order, and a live
/// session that may not see the order gets 404.
#[tokio::test]
async fn reading_an_order_in_one_statement_still_refuses_a_revoked_session_with_401() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let (outsider, admin) = (
        app.register("outsider").await,
        app.register_admin("admin").await,
    );
    let order = app.order_in("new", &client, &creative).await;
    let path = format!("/v1/orders/{order}");
    assert_eq!(app.get(&path, &admin.token).await.status(), StatusCode::OK);
    problem(app.get(&path, &outsider.token).await, StatusCode::NOT_FOUND).await;
    app.logout(&client).await;
    let res = app.get(&path, &client.token).await;
    assert!(res.headers().contains_key("www-authenticate"));
    problem(res, StatusCode::UNAUTHORIZED).await;
    let missing = format!("/v1/orders/{}", uuid::Uuid::now_v7());
    problem(
        app.get(&missing, &client.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    app.sql(&format!(
        "UPDATE users SET disabled_at = now() WHERE id = '{}'",
        creative.id
    ))
    .await;
    problem(
        app.get(&path, &creative.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// `GET /v1/dashboard` folds the session check into its one statement: a revoked session or a
/// disabled account is still a 401 there, not an empty dashboard.
#[tokio::test]
async fn the_dashboard_in_one_statement_still_refuses_a_revoked_session_with_401() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    app.order_in("new", &client, &creative).await;
    let d = json_ok(
        app.get("/v1/dashboard", &client.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["as_client"]["new"], 1);
    app.logout(&client).await;
    let res = app.get("/v1/dashboard", &client.token).await;
    assert!(res.headers().contains_key("www-authenticate"));
    problem(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        app.get("/v1/dashboard", &creative.token).await.status(),
        StatusCode::OK
    );
    app.sql(&format!(
        "UPDATE users SET disabled_at = now() WHERE id = '{}'",
        creative.id
    ))
    .await;
    problem(
        app.get("/v1/dashboard", &creative.token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

/// `POST /v1/orders/{id}/transitions` reads the order and checks the session in one statement: a
/// revoked session is a 401 whether the order exists, whether it is the caller's, and whether the
/// body is refused on its shape (a reason the move needs, an unknown status or field); a live
/// outsider still gets 404.
#[tokio::test]
async fn a_transition_checked_in_one_statement_still_refuses_a_revoked_session_with_401() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let outsider = app.register("outsider").await;
    let order = app.order_in("new", &client, &creative).await;
    let path = format!("/v1/orders/{order}/transitions");
    let confirm = json!({"to": "in_progress"});
    problem(
        app.post(&path, Some(&outsider.token), &confirm).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.logout(&creative).await;
    let missing = format!("/v1/orders/{}/transitions", uuid::Uuid::now_v7());
    for (path, body) in [
        (&path, &confirm),
        (&missing, &confirm),
        (&path, &json!({"to": "declined"})),
        (&path, &json!({"to": "bogus"})),
        (&path, &json!({"to": "in_progress", "extra": 1})),
    ] {
        let res = app.post(path, Some(&creative.token), body).await;
        assert!(res.headers().contains_key("www-authenticate"));
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    let order = json_ok(
        app.get(&format!("/v1/orders/{order}"), &client.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(order["status"], "new", "a refused move changed nothing");
}

/// `POST /v1/orders/{id}/messages` checks the session in the statement that locks the order: a
/// revoked session is a 401 whatever the body, and its Idempotency-Key is not spent on the 401,
/// so the same key posts once the user is signed in again; a live outsider still gets 404 (or 422
/// for a body refused on its own, as before).
#[tokio::test]
async fn a_message_checked_in_one_statement_still_refuses_a_revoked_session_with_401() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let outsider = app.register("outsider").await;
    let id = app.order_in("in_progress", &client, &creative).await;
    let path = format!("/v1/orders/{id}/messages");
    let (fresh, _) = app.login(&client).await;
    app.logout(&client).await;
    let send = |token: String, body: Value| {
        app.request(Method::POST, &path, Some(&token))
            .header("Idempotency-Key", "k-1")
            .json(&body)
            .send()
    };
    for body in [
        json!({"body": "hello"}),
        json!({"body": ""}),
        json!({"nope": 1}),
    ] {
        let res = send(client.token.clone(), body).await.unwrap();
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    let posted = send(fresh.clone(), json!({"body": "hello"})).await.unwrap();
    let posted = json_ok(posted, StatusCode::CREATED).await;
    assert_eq!(posted["body"], "hello");
    assert_eq!(posted["sender"]["display_name"], "client");
    let again = send(fresh, json!({"body": "hello"})).await.unwrap();
    let again = json_ok(again, StatusCode::CREATED).await;
    assert_eq!(
        again["id"], posted["id"],
        "a retry replays the first answer"
    );
    let hello = json!({"body": "hi"});
    let res = app.message(&outsider, &id, &hello).await;
    problem(res, StatusCode::NOT_FOUND).await;
    // A body refused on its own is refused so whoever asks, as before the fold (no 404 first).
    let res = app.message(&outsider, &id, &json!({"body": ""})).await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    app.logout(&outsider).await;
    let res = app.message(&outsider, &id, &hello).await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}
