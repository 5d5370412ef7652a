//! Notifications: the outbox delivered by email (to a real SMTP server in the test process) and
//! in-app, at least once, without blocking the request that caused it.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{mailed_token, problem, token_left_in_outbox, TestApp, TestUser};
use crate::smtp::{free_port, Smtp};

pub(crate) const SOON: Duration = Duration::from_secs(10);

pub(crate) async fn app_mailing_to(
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

pub(crate) async fn outbox_count(app: &TestApp, sql_where: &str) -> i64 {
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
pub(crate) async fn wait_deliveries(app: &TestApp, sql_where: &str, n: i64) {
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

pub(crate) async fn message(app: &TestApp, user: &TestUser, order: &str, text: &str) {
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
async fn a_worker_never_takes_mail_another_worker_holds_nor_settles_mail_it_no_longer_holds() {
    use createspace::db::notifications::deliveries;
    let app = TestApp::spawn_with(|s| s.notifications.worker_in_serve = false).await;
    let (client, creative) = (app.register("grace").await, app.register("ada").await);
    let order = app.place_order(&client, &creative).await;
    let order_id = order["id"].as_str().unwrap();
    message(&app, &client, order_id, "one").await;
    message(&app, &client, order_id, "two").await;
    let mut conn = app.conn().await;
    createspace::app::notifications::dispatch::dispatch_batch(&mut conn, "http://app.test")
        .await
        .unwrap();
    // Worker A holds the first new-message mail...
    let held = deliveries::claim_due(&mut conn, 20, Duration::from_secs(60))
        .await
        .unwrap();
    let messages: Vec<_> = held
        .iter()
        .filter(|d| d.batch_order_id.is_some())
        .cloned()
        .collect();
    assert_eq!(messages.len(), 2);
    app.sql(&format!(
        "UPDATE notification_deliveries SET next_attempt_at = now() WHERE id = '{}'",
        messages[1].id
    ))
    .await;
    // ...so worker B, batching the same order for the same person, takes only the row that is due.
    let (recipient, order) = (
        messages[0].recipient_id,
        messages[0].batch_order_id.unwrap(),
    );
    let taken = deliveries::claim_batch(&mut conn, recipient, order, &[], Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![messages[1].id]
    );
    // Worker A's lease is gone and B has claimed its row since: A's late verdict changes nothing.
    app.sql(&format!(
        "UPDATE notification_deliveries SET attempts = attempts + 1 WHERE id = '{}'",
        messages[0].id
    ))
    .await;
    let changed = deliveries::mark_dead(&mut conn, &messages[..1], "late")
        .await
        .unwrap();
    assert_eq!(changed, 0);
    assert_eq!(outbox_count(&app, "status = 'dead'").await, 0);
}
