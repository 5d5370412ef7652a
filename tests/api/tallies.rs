//! The dashboard's counters are kept by the writes (`order_tallies`, maintained by triggers) rather
//! than counted at each read. These tests hold the kept figures to a recount from the orders,
//! messages and read markers themselves, after every kind of write and under concurrent ones.

use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{json_ok, TestApp, TestUser};

#[derive(QueryableByName)]
struct Drift {
    #[diesel(sql_type = diesel::sql_types::Text)]
    row: String,
}

/// Every tally row that differs from a recount, on either side, as text (empty when they agree).
async fn drift(app: &TestApp) -> Vec<String> {
    let mut conn = app.conn().await;
    let rows: Vec<Drift> = diesel::sql_query(
        "SELECT 'kept ' || k::text AS row FROM \
           (SELECT * FROM order_tallies EXCEPT SELECT * FROM order_tallies_expected()) k \
         UNION ALL \
         SELECT 'recounted ' || e::text FROM \
           (SELECT * FROM order_tallies_expected() EXCEPT SELECT * FROM order_tallies) e",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|d| d.row).collect()
}

async fn dashboard(app: &TestApp, user: &TestUser) -> Value {
    json_ok(app.get("/v1/dashboard", &user.token).await, StatusCode::OK).await
}

async fn read_up_to(app: &TestApp, user: &TestUser, order: &str, message: &Value) {
    let path = format!("/v1/orders/{order}/messages/read");
    let res = app
        .post(&path, Some(&user.token), &json!({ "up_to": message }))
        .await;
    json_ok(res, StatusCode::OK).await;
}

#[tokio::test]
async fn the_kept_counts_match_a_recount_after_every_kind_of_write() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let admin = app.register_admin("admin").await;
    for status in [
        "new",
        "in_progress",
        "delivered",
        "completed",
        "declined",
        "cancelled",
    ] {
        app.order_in(status, &client, &creative).await;
    }
    let disputed = app.order_in("disputed", &client, &creative).await;
    // A revision round: delivered, then back in progress.
    let revised = app.order_in("delivered", &client, &creative).await;
    let res = app.transition(&client, &revised, "in_progress", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Both have read the thread so far (system lines count as unread too).
    let thread = format!("/v1/orders/{revised}/messages?limit=100");
    let so_far = json_ok(app.get(&thread, &client.token).await, StatusCode::OK).await;
    let newest = so_far["data"].as_array().unwrap().last().unwrap()["id"].clone();
    read_up_to(&app, &client, &revised, &newest).await;
    read_up_to(&app, &creative, &revised, &newest).await;
    let base_creative = dashboard(&app, &creative).await["unread_messages"]
        .as_i64()
        .unwrap();
    let base_client = dashboard(&app, &client).await["unread_messages"]
        .as_i64()
        .unwrap();
    // Messages both ways, and one from an admin in the dispute (unread for both parties).
    let first = json_ok(
        app.message(&client, &revised, &json!({"body": "one"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    for body in ["two", "three"] {
        let res = app
            .message(&client, &revised, &json!({ "body": body }))
            .await;
        json_ok(res, StatusCode::CREATED).await;
    }
    let res = app
        .message(&creative, &revised, &json!({"body": "on it"}))
        .await;
    json_ok(res, StatusCode::CREATED).await;
    let res = app
        .message(&admin, &disputed, &json!({"body": "looking"}))
        .await;
    json_ok(res, StatusCode::CREATED).await;
    // The creative reads the first of the client's three; the client reads nothing.
    read_up_to(&app, &creative, &revised, &first["id"]).await;
    // Reading an older message again moves nothing.
    read_up_to(&app, &creative, &revised, &first["id"]).await;

    assert_eq!(drift(&app).await, Vec::<String>::new());
    let seen = dashboard(&app, &creative).await;
    assert_eq!(seen["as_creative"]["in_progress"], 2, "{seen}");
    assert_eq!(seen["as_creative"]["delivered"], 1, "{seen}");
    assert_eq!(seen["as_creative"]["disputed"], 1, "{seen}");
    assert_eq!(seen["as_client"]["in_progress"], 0, "{seen}");
    assert_eq!(
        seen["unread_messages"].as_i64(),
        Some(base_creative + 3),
        "two of the client's and the admin's"
    );
    let placed = dashboard(&app, &client).await;
    assert_eq!(placed["as_client"]["new"], 1, "{placed}");
    assert_eq!(placed["as_client"]["completed"], 1, "{placed}");
    assert_eq!(
        placed["unread_messages"].as_i64(),
        Some(base_client + 2),
        "the creative's and the admin's"
    );
}

#[tokio::test]
async fn a_change_made_outside_the_api_is_counted_too() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let id = app.order_in("in_progress", &client, &creative).await;
    // Support fixing a row by hand, or a future worker: the triggers keep the tallies either way.
    app.sql(&format!(
        "UPDATE orders SET status = 'cancelled' WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(drift(&app).await, Vec::<String>::new());
    let seen = dashboard(&app, &creative).await;
    assert_eq!(seen["as_creative"]["in_progress"], 0, "{seen}");
    assert_eq!(seen["as_creative"]["cancelled"], 1, "{seen}");
}

#[tokio::test]
async fn concurrent_moves_and_messages_between_the_same_parties_keep_exact_counts() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    // The same two people on both sides: each move and message touches the same tally rows.
    let mut orders = Vec::new();
    for _ in 0..6 {
        orders.push(app.order_in("in_progress", &client, &creative).await);
    }
    let reverse = app.order_in("in_progress", &creative, &client).await;
    let moves = orders.iter().map(|id| async {
        let res = app.transition(&creative, id, "delivered", None).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    });
    let talk = orders.iter().map(|id| async {
        let res = app
            .message(&client, id, &json!({"body": "any news?"}))
            .await;
        json_ok(res, StatusCode::CREATED).await;
    });
    let back = async {
        let res = app.transition(&client, &reverse, "delivered", None).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    };
    tokio::join!(
        futures_util::future::join_all(moves),
        futures_util::future::join_all(talk),
        back
    );
    assert_eq!(drift(&app).await, Vec::<String>::new());
    let seen = dashboard(&app, &creative).await;
    assert_eq!(seen["as_creative"]["delivered"], 6, "{seen}");
    assert_eq!(seen["as_client"]["delivered"], 1, "{seen}");
}

#[tokio::test]
async fn an_orders_parties_cannot_be_changed_even_by_hand() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let other = app.register("other").await;
    let id = app.order_in("in_progress", &client, &creative).await;
    let mut conn = app.conn().await;
    let refused = diesel::sql_query(format!(
        "UPDATE orders SET creative_id = '{}' WHERE id = '{id}'",
        other.id
    ))
    .execute(&mut conn)
    .await;
    let err = refused.expect_err("the tallies rest on an order's parties never changing");
    assert!(err.to_string().contains("cannot change"), "{err}");
    assert_eq!(drift(&app).await, Vec::<String>::new());
}
