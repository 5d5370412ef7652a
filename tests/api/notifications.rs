//! Notifications: the outbox delivered by email (to a real SMTP server in the test process) and
//! in-app, at least once, without blocking the request that caused it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_ok, mailed_token, problem, token_left_in_outbox, TestApp, TestUser};
use crate::smtp::{free_port, Smtp};

const SOON: Duration = Duration::from_secs(10);

async fn app_mailing_to(
    port: u16,
    adjust: impl FnOnce(&mut createspace::config::Settings),
) -> TestApp {
    TestApp::spawn_with(|s| {
        s.notifications.transport =
            createspace::config::MailTransport::Smtp(Smtp::url(port).into());
        adjust(s);
    })
    .await
}

async fn outbox_count(app: &TestApp, sql_where: &str) -> i64 {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.conn().await;
    // Every registration's verification mail is left out: tests count what they caused.
    let q = format!(
        "SELECT count(*) AS n FROM notification_deliveries d JOIN outbox_events e ON e.id = d.event_id \
         WHERE e.event_type <> 'user.email_verification_requested' AND {sql_where}"
    );
    diesel::sql_query(q)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

/// Waits until `sql_where` counts `n` deliveries.
async fn wait_deliveries(app: &TestApp, sql_where: &str, n: i64) {
    let start = std::time::Instant::now();
    while outbox_count(app, sql_where).await != n {
        assert!(
            start.elapsed() < SOON,
            "deliveries where {sql_where} never reached {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn placing_an_order_mails_the_creative_its_title_and_price_in_both_parts() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let order = app
        .place_order_with(&client, &creative, json!({"title": "Logo for a bakery"}))
        .await;

    let mails = smtp.wait_for(1, SOON).await;
    let placed: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.starts_with("New order"))
        .collect();
    assert_eq!(placed.len(), 1, "{mails:#?}");
    let mail = placed[0];
    assert_eq!(mail.to, vec![creative.email.clone()]);
    assert!(
        mail.subject.contains("Logo for a bakery"),
        "{}",
        mail.subject
    );
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("Logo for a bakery"), "{part}");
        assert!(part.contains("150.00 EUR"), "{part}");
        assert!(part.contains("grace"), "the client's name: {part}");
        // (HTML escapes `/` in the link as `&#x2f;`, which browsers and mail clients read as `/`.)
        let part = part.replace("&#x2f;", "/");
        assert!(
            part.contains(&format!("/orders/{}", order["id"].as_str().unwrap())),
            "{part}"
        );
    }
    assert!(
        mail.text.contains("(UTC)"),
        "times name their zone: {}",
        mail.text
    );
    assert!(
        mail.html.contains("contact@tristetix.com"),
        "the support footer"
    );
    // The client placed it: they get no mail saying so.
    assert!(mails.iter().all(|m| m.to != vec![client.email.clone()]));
}

#[tokio::test]
async fn an_order_placed_while_the_mail_server_is_down_is_mailed_once_it_is_back() {
    let port = free_port();
    let app = app_mailing_to(port, |_| {}).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);

    let res = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"creative_id": creative.id, "title": "Poster", "requirements": "A3",
                    "price": {"amount": 9900, "currency": "USD"},
                    "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "the request never waits on mail"
    );
    wait_deliveries(
        &app,
        "channel = 'email' AND attempts >= 1 AND last_error IS NOT NULL",
        1,
    )
    .await;

    let smtp = Smtp::start_on(port);
    let mails = smtp.wait_for(1, SOON).await;
    assert!(mails[0].subject.contains("Poster"));
    assert!(mails[0].text.contains("99.00 USD"));
    wait_deliveries(&app, "channel = 'email' AND status = 'delivered'", 1).await;
}

#[tokio::test]
async fn two_workers_over_one_database_send_each_mail_once() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let second_pool = createspace::db::pool(&app.database_url(), 5).unwrap();
    let _second_worker = createspace::startup::Workers::spawn(
        &second_pool,
        &app.settings,
        &createspace::storage::Storage::new(&app.settings.files.storage).unwrap(),
        &createspace::wake::Signal::default(),
    )
    .unwrap();
    let creative = app.register("ada").await;
    let mut clients = Vec::new();
    for i in 0..4 {
        clients.push(app.register(&format!("client{i}")).await);
    }
    for round in 0..3 {
        for client in &clients {
            app.place_order_with(client, &creative, json!({"title": format!("Job {round}")}))
                .await;
        }
    }

    smtp.wait_for(12, SOON).await;
    wait_deliveries(&app, "channel = 'email' AND status = 'delivered'", 12).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = smtp.received();
    let mut ids: Vec<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(mails.len(), 12, "each mail once");
    assert_eq!(ids.len(), 12);
}

#[tokio::test]
async fn a_worker_that_dies_mid_send_loses_nothing() {
    let smtp = Smtp::start();
    // No worker in this instance: the test plays the one that dies.
    let app = app_mailing_to(smtp.port, |s| s.notifications.worker_in_serve = false).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    app.place_order(&client, &creative).await;
    {
        let mut conn = app.conn().await;
        createspace::app::notifications::dispatch::dispatch_batch(&mut conn, "http://app.test")
            .await
            .unwrap();
        let claimed = createspace::db::notifications::deliveries::claim_due(
            &mut conn,
            20,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        let orders: Vec<_> = claimed
            .iter()
            .filter(|c| c.event_type == "order.placed")
            .collect();
        assert_eq!(orders.len(), 1, "the order's mail, claimed");
        // ...and the worker dies here, before sending or marking anything.
    }
    let _restarted = app.sibling(|s| s.notifications.worker_in_serve = true);

    let mails = smtp.wait_for(1, SOON).await;
    assert!(mails[0].subject.starts_with("New order"));
    wait_deliveries(
        &app,
        "status = 'delivered' AND channel = 'email' AND attempts = 2",
        1,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1);
}

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
async fn the_reset_token_leaves_the_outbox_once_mailed() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": ada.email}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = mailed_token(&app, ada.id, "user.password_reset_requested")
        .await
        .unwrap();
    assert!(token.len() >= 32, "{token}");
    wait_deliveries(&app, "status = 'delivered' AND channel = 'email'", 1).await;
    assert_eq!(token_left_in_outbox(&app, ada.id).await, None);
    // The mailed token still works.
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": token, "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_title_with_a_line_break_is_refused_before_it_reaches_a_mail_header() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let res = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"creative_id": creative.id, "title": "Logo\r\nBcc: victim@example.com",
                    "requirements": "x", "price": {"amount": 100, "currency": "EUR"},
                    "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "title");
    // Requirements may hold line breaks; they go in the body, never a header.
    app.place_order_with(
        &client,
        &creative,
        json!({"requirements": "Line one\r\nBcc: victim@example.com\r\n.\r\nRCPT TO:<x@example.com>"}),
    )
    .await;
    let mails = smtp.wait_for(1, SOON).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = smtp.received().into_iter().chain(mails).collect::<Vec<_>>();
    for mail in &mails {
        assert_eq!(mail.to, vec![creative.email.clone()]);
        for (name, value) in &mail.headers {
            assert!(!name.eq_ignore_ascii_case("bcc"), "{:#?}", mail.headers);
            assert!(!value.contains("victim"), "{:#?}", mail.headers);
        }
        assert!(
            mail.text.contains("Bcc: victim@example.com"),
            "kept, as body text"
        );
    }
}

async fn message(app: &TestApp, user: &TestUser, order: &str, text: &str) {
    let res = app.message(user, order, &json!({"body": text})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn new_messages_are_mailed_at_most_once_per_order_per_window() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let order = app.place_order(&client, &creative).await;
    let order = order["id"].as_str().unwrap();
    smtp.wait_for(1, SOON).await; // the new order's mail

    message(&app, &client, order, "First question").await;
    let mails = smtp.wait_for(2, SOON).await;
    assert!(
        mails[1].text.contains("First question"),
        "{}",
        mails[1].text
    );
    message(&app, &client, order, "Second thought").await;
    message(&app, &client, order, "And a third").await;
    wait_deliveries(&app, "batch_order_id IS NOT NULL AND status = 'pending' AND next_attempt_at > now() + interval '9 minutes'", 2).await;
    assert_eq!(smtp.received().len(), 2, "held for the window");

    // The window passes.
    app.sql("UPDATE notification_deliveries SET delivered_at = delivered_at - interval '11 minutes' WHERE status = 'delivered'").await;
    app.sql("UPDATE notification_deliveries SET next_attempt_at = now() WHERE status = 'pending'")
        .await;
    let mails = smtp.wait_for(3, SOON).await;
    let digest = &mails[2];
    assert!(
        digest.subject.starts_with("2 new messages"),
        "{}",
        digest.subject
    );
    assert!(digest.text.contains("Second thought") && digest.text.contains("And a third"));
    assert!(digest.html.contains("Second thought") && digest.html.contains("And a third"));
    wait_deliveries(
        &app,
        "batch_order_id IS NOT NULL AND status = 'delivered'",
        3,
    )
    .await;
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
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "admins only");
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
async fn a_write_wakes_the_worker_at_once_without_waiting_for_its_poll() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |s| {
        s.notifications.poll_interval = Duration::from_secs(3600);
    })
    .await;
    // The worker's first round (at start-up) is over; from now on only a wake-up moves it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let started = std::time::Instant::now();
    app.place_order(&client, &creative).await;
    smtp.wait_for(1, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_write_on_one_instance_wakes_the_worker_of_another_through_notify() {
    let smtp = Smtp::start();
    // This instance serves requests and runs no worker; a second process-like instance runs one
    // that never polls, so only PostgreSQL's NOTIFY can wake it.
    let app = app_mailing_to(smtp.port, |s| {
        s.notifications.worker_in_serve = false;
        s.notifications.poll_interval = Duration::from_secs(3600);
    })
    .await;
    let worker_pool = createspace::db::pool(&app.database_url(), 3).unwrap();
    let _worker = createspace::startup::Workers::spawn(
        &worker_pool,
        &app.settings,
        &createspace::storage::Storage::new(&app.settings.files.storage).unwrap(),
        &createspace::wake::Signal::default(),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await; // LISTEN is in place
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    app.place_order(&client, &creative).await;
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert!(mails[0].subject.starts_with("New order"));
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
