//! The in-app inbox, notification preferences, verified addresses and dead letters.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_ok, mailed_token, problem, TestApp};
use crate::notifications::{app_mailing_to, wait_deliveries, SOON};
use crate::smtp::{free_port, Smtp};

#[tokio::test]
async fn a_creative_who_turned_order_mail_off_gets_it_in_app_only() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let res = app
        .request(reqwest::Method::PUT, "/v1/me/notification-preferences", Some(&creative.token))
        .json(&json!({"preferences": [{"event_type": "order.placed", "channel": "email", "enabled": false}]}))
        .send()
        .await
        .unwrap();
    let prefs = json_ok(res, StatusCode::OK).await;
    let placed_email = prefs["preferences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event_type"] == "order.placed" && p["channel"] == "email")
        .unwrap()
        .clone();
    assert_eq!(
        placed_email,
        json!({"event_type": "order.placed", "channel": "email", "enabled": false, "default": true, "locked": false})
    );

    let order = app.place_order(&client, &creative).await;
    wait_deliveries(&app, "channel = 'in_app'", 1).await;
    let inbox = json_ok(
        app.get("/v1/notifications", &creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(inbox["data"].as_array().unwrap().len(), 1);
    assert_eq!(inbox["data"][0]["event_type"], "order.placed");
    assert_eq!(inbox["data"][0]["order_id"], order["id"]);
    // Moving the order is still mailed (to the client, not to the creative who moved it).
    let moved = app
        .transition(
            &creative,
            order["id"].as_str().unwrap(),
            "in_progress",
            None,
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let mails = smtp.wait_for(1, SOON).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails_now = smtp.received();
    assert_eq!(mails_now.len(), 1, "{mails:#?}");
    assert_eq!(mails_now[0].to, vec![client.email.clone()]);
    assert!(mails_now[0].subject.contains("in progress"));
}

#[tokio::test]
async fn security_mail_cannot_be_turned_off() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .request(
            reqwest::Method::PUT,
            "/v1/me/notification-preferences",
            Some(&ada.token),
        )
        .json(&json!({"preferences": [
            {"event_type": "user.password_reset_requested", "channel": "email", "enabled": false},
            {"event_type": "order.nope", "channel": "email", "enabled": false}]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "security_notification");
    assert_eq!(body["errors"][1]["code"], "unknown_event_type");
    assert_eq!(body["errors"][1]["field"], "preferences[1].event_type");
}

#[tokio::test]
async fn the_inbox_lists_marks_read_and_counts_unread() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let outsider = app.register("eve").await;
    for _ in 0..3 {
        app.place_order(&client, &creative).await;
    }
    wait_deliveries(&app, "channel = 'in_app'", 3).await;

    let page = json_ok(
        app.get("/v1/notifications?limit=2", &creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = json_ok(
        app.get(
            &format!("/v1/notifications?limit=2&cursor={cursor}"),
            &creative.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);

    let first = page["data"][0]["id"].as_str().unwrap();
    let stolen = app
        .post(
            &format!("/v1/notifications/{first}/read"),
            Some(&outsider.token),
            &json!({}),
        )
        .await;
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    let read = json_ok(
        app.post(
            &format!("/v1/notifications/{first}/read"),
            Some(&creative.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(read["read_at"].is_string());
    let unread = json_ok(
        app.get("/v1/notifications?unread=true", &creative.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unread["data"].as_array().unwrap().len(), 2);
    let dash = json_ok(
        app.get("/v1/dashboard", &creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dash["unread_notifications"], 2);

    let all = json_ok(
        app.post(
            "/v1/notifications/read-all",
            Some(&creative.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["marked_read"], 2);
    let dash = json_ok(
        app.get("/v1/dashboard", &creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dash["unread_notifications"], 0);
    let theirs = json_ok(
        app.get("/v1/notifications", &outsider.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(theirs["data"], json!([]));
}

#[tokio::test]
async fn a_mail_that_failed_every_attempt_is_a_dead_letter_an_admin_can_retry() {
    let port = free_port();
    let app = app_mailing_to(port, |s| s.notifications.retry.max_attempts = 2).await;
    let admin = app.register_admin("root").await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    app.place_order(&client, &creative).await;
    wait_deliveries(&app, "status = 'dead'", 1).await;

    let res = app.get("/v1/admin/dead-letters", &creative.token).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "admins only");
    let dead = json_ok(
        app.get("/v1/admin/dead-letters", &admin.token).await,
        StatusCode::OK,
    )
    .await;
    let letters = dead["data"].as_array().unwrap();
    let placed: Vec<_> = letters
        .iter()
        .filter(|l| l["event_type"] == "order.placed")
        .collect();
    assert_eq!(placed.len(), 1, "{letters:#?}");
    let letter = placed[0];
    assert_eq!(letter["event_type"], "order.placed");
    assert_eq!(letter["attempts"], 2);
    assert!(
        letter["last_error"].as_str().unwrap().contains("SMTP"),
        "{letter}"
    );

    let smtp = Smtp::start_on(port);
    let id = letter["id"].as_str().unwrap();
    let retried = json_ok(
        app.post(
            &format!("/v1/admin/dead-letters/{id}/retry"),
            Some(&admin.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(retried["status"], "pending");
    smtp.wait_for(1, SOON).await;
    wait_deliveries(&app, "status = 'delivered' AND channel = 'email'", 1).await;
    let again = app
        .post(
            &format!("/v1/admin/dead-letters/{id}/retry"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "not_dead"
    );
}

#[tokio::test]
async fn an_unverified_account_can_browse_but_not_order_until_it_follows_the_mailed_link() {
    let app = TestApp::spawn_with(|s| s.notifications.require_email_verification = true).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let me = json_ok(app.get("/v1/me", &client.token).await, StatusCode::OK).await;
    assert_eq!(me["id"], client.id.to_string());

    let order = json!({"creative_id": creative.id, "title": "Logo", "requirements": "x",
        "price": {"amount": 100, "currency": "EUR"},
        "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()});
    let res = app.post("/v1/orders", Some(&client.token), &order).await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "email_unverified"
    );
    let service = json!({"title": "Logo", "description": "", "price": {"amount": 100, "currency": "EUR"},
        "delivery_days": 3, "revisions_included": 1});
    let res = app
        .post("/v1/services", Some(&creative.token), &service)
        .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "email_unverified"
    );

    let token = mailed_token(&app, client.id, "user.email_verification_requested")
        .await
        .unwrap();
    let res = app
        .post("/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let again = app
        .post("/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(
        problem(again, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "invalid_token"
    );

    // Verified, the client may order, but not from a creative who is not.
    let res = app.post("/v1/orders", Some(&client.token), &order).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "creative_unverified");
    let resent = app
        .post(
            "/v1/auth/verify-email/resend",
            Some(&creative.token),
            &json!({}),
        )
        .await;
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let token = mailed_token(&app, creative.id, "user.email_verification_requested")
        .await
        .unwrap();
    let res = app
        .post("/v1/auth/verify-email", None, &json!({"token": token}))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.post("/v1/orders", Some(&client.token), &order).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let verified = app
        .post(
            "/v1/auth/verify-email/resend",
            Some(&client.token),
            &json!({}),
        )
        .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn verification_mail_is_resent_at_most_five_times_an_hour_by_default() {
    let app = TestApp::spawn_with(|s| {
        let d = createspace::config::Settings::from_lookup(&|_| None)
            .unwrap()
            .rate_limits;
        s.rate_limits.verification_emails_per_user_per_hour =
            d.verification_emails_per_user_per_hour;
    })
    .await;
    let ada = app.register("ada").await;
    for _ in 0..5 {
        let res = app
            .post("/v1/auth/verify-email/resend", Some(&ada.token), &json!({}))
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let res = app
        .post("/v1/auth/verify-email/resend", Some(&ada.token), &json!({}))
        .await;
    let res = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(res["code"], "rate_limited");
}

#[tokio::test]
async fn a_service_published_before_verification_was_required_takes_no_orders_until_verified() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let service = app.create_service(&creative).await;
    app.sql(&format!(
        "UPDATE users SET email_verified_at = now() WHERE id = '{}'",
        client.id
    ))
    .await;
    let strict = app.sibling(|s| s.notifications.require_email_verification = true);
    let res = strict
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"service_id": service["id"], "requirements": "A fox."}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["code"], "creative_unverified");
    assert_eq!(body["errors"][0]["field"], "service_id");
}
