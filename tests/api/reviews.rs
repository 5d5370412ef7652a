//! Reviews over HTTP: double-blind, once each, within the window; replies and hiding.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

pub(crate) async fn review(
    app: &TestApp,
    user: &TestUser,
    order: &str,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/v1/orders/{order}/reviews"),
        Some(&user.token),
        &body,
    )
    .await
}

pub(crate) async fn visible_reviews(app: &TestApp, user: &TestUser, order: &str) -> Vec<Value> {
    let page = json_ok(
        app.get(&format!("/v1/orders/{order}/reviews"), &user.token)
            .await,
        StatusCode::OK,
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

pub(crate) async fn profile(app: &TestApp, user: &TestUser) -> Value {
    let res = app
        .request(Method::GET, &format!("/v1/users/{}/profile", user.id), None)
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await
}

#[tokio::test]
async fn both_reviews_stay_hidden_until_the_second_arrives_then_both_show() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("completed", &client, &creative).await;
    let first = review(
        &app,
        &client,
        &order,
        json!({"rating": 5, "comment": "Great.",
        "sub_ratings": {"communication": 5, "quality": 5, "timeliness": 4}}),
    )
    .await;
    let first = json_ok(first, StatusCode::CREATED).await;
    assert_eq!(first["published_at"], Value::Null);
    assert_eq!(
        visible_reviews(&app, &creative, &order).await,
        Vec::<Value>::new(),
        "double-blind"
    );
    assert_eq!(
        visible_reviews(&app, &client, &order).await.len(),
        1,
        "the author sees their own"
    );
    let admin = app.register_admin("admin").await;
    assert_eq!(
        visible_reviews(&app, &admin, &order).await.len(),
        0,
        "nobody but its author"
    );
    assert_eq!(
        profile(&app, &creative).await["as_creative"]["rating"]["count"],
        0
    );

    let second = review(
        &app,
        &creative,
        &order,
        json!({"rating": 4, "sub_ratings": {"clarity": 3}}),
    )
    .await;
    let second = json_ok(second, StatusCode::CREATED).await;
    assert!(second["published_at"].is_string());
    for user in [&client, &creative] {
        let seen = visible_reviews(&app, user, &order).await;
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|r| r["published_at"].is_string()));
    }
    let theirs = profile(&app, &creative).await;
    assert_eq!(theirs["as_creative"]["rating"]["average"], 5.0);
    assert_eq!(theirs["as_creative"]["rating"]["timeliness"], 4.0);
    assert_eq!(profile(&app, &client).await["as_client"]["clarity"], 3.0);
    let again = review(&app, &client, &order, json!({"rating": 1})).await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "already_reviewed"
    );
    crate::payment_terms::wait_for_notification(&app, &creative, "review.published").await;
}

#[tokio::test]
async fn a_lone_review_is_published_by_the_worker_when_the_window_closes() {
    let app =
        TestApp::spawn_with(|s| s.orders.review_window = std::time::Duration::from_secs(2)).await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("completed", &client, &creative).await;
    json_ok(
        review(&app, &client, &order, json!({"rating": 3})).await,
        StatusCode::CREATED,
    )
    .await;
    let mut published = false;
    for _ in 0..100 {
        if visible_reviews(&app, &creative, &order).await.len() == 1 {
            published = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(published, "the worker never published the lone review");
    let late = review(&app, &creative, &order, json!({"rating": 5})).await;
    assert_eq!(
        problem(late, StatusCode::CONFLICT).await["code"],
        "review_window_closed"
    );
    assert_eq!(
        profile(&app, &creative).await["as_creative"]["rating"]["average"],
        3.0
    );
}

#[tokio::test]
async fn bad_ratings_open_orders_and_outsiders_are_refused() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let (outsider, admin) = (
        app.register("outsider").await,
        app.register_admin("admin").await,
    );
    let order = app.order_in("completed", &client, &creative).await;
    for (body, field) in [
        (json!({"rating": 0}), "rating"),
        (json!({"rating": 6}), "rating"),
        (
            json!({"rating": 5, "sub_ratings": {"quality": 9}}),
            "sub_ratings.quality",
        ),
        (
            json!({"rating": 5, "sub_ratings": {"clarity": 5}}),
            "sub_ratings.clarity",
        ),
    ] {
        let res = problem(
            review(&app, &client, &order, body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(res["errors"][0]["field"], field);
    }
    problem(
        review(&app, &outsider, &order, json!({"rating": 5})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get(&format!("/v1/orders/{order}/reviews"), &outsider.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        review(&app, &admin, &order, json!({"rating": 5})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    for status in ["in_progress", "cancelled"] {
        let open = app.order_in(status, &client, &creative).await;
        let res = problem(
            review(&app, &client, &open, json!({"rating": 5})).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(res["code"], "order_not_completed");
    }
}

#[tokio::test]
async fn the_reviewed_party_replies_once_and_a_hidden_review_leaves_the_averages() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let admin = app.register_admin("admin").await;
    let order = app.order_in("completed", &client, &creative).await;
    let mine = json_ok(
        review(
            &app,
            &client,
            &order,
            json!({"rating": 1, "comment": "Rude."}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = mine["id"].as_str().unwrap();
    let reply = |user: &TestUser, body: &str| {
        let path = format!("/v1/reviews/{id}/reply");
        let token = user.token.clone();
        let body = json!({ "body": body });
        let app = &app;
        async move { app.post(&path, Some(&token), &body).await }
    };
    // Unpublished, the subject cannot see it, let alone answer it.
    problem(reply(&creative, "Hm").await, StatusCode::NOT_FOUND).await;
    json_ok(
        review(&app, &creative, &order, json!({"rating": 5})).await,
        StatusCode::CREATED,
    )
    .await;
    problem(reply(&client, "Me again").await, StatusCode::FORBIDDEN).await;
    let answered = json_ok(reply(&creative, "Sorry you felt so.").await, StatusCode::OK).await;
    assert_eq!(answered["reply"], "Sorry you felt so.");
    problem(
        reply(&creative, "And another thing").await,
        StatusCode::CONFLICT,
    )
    .await;

    let page = |user: &TestUser| {
        let app = &app;
        let path = format!("/v1/users/{}/reviews", user.id);
        async move {
            json_ok(
                app.request(Method::GET, &path, None).send().await.unwrap(),
                StatusCode::OK,
            )
            .await
        }
    };
    assert_eq!(
        page(&creative).await["data"][0]["reply"],
        "Sorry you felt so."
    );
    assert_eq!(
        profile(&app, &creative).await["as_creative"]["rating"]["count"],
        1
    );

    let hide = |user: &TestUser| {
        let app = &app;
        let path = format!("/v1/admin/reviews/{id}/hide");
        let token = user.token.clone();
        async move {
            app.post(&path, Some(&token), &json!({"reason": "Abusive."}))
                .await
        }
    };
    problem(hide(&creative).await, StatusCode::FORBIDDEN).await;
    let hidden = json_ok(hide(&admin).await, StatusCode::OK).await;
    assert_eq!(
        (hidden["hidden"].as_bool(), hidden["rating"].as_i64()),
        (Some(true), Some(1)),
        "never edited"
    );
    problem(hide(&admin).await, StatusCode::CONFLICT).await;
    assert_eq!(page(&creative).await["data"], json!([]));
    let rating = &profile(&app, &creative).await["as_creative"]["rating"];
    assert_eq!(
        (rating["count"].as_i64(), &rating["average"]),
        (Some(0), &Value::Null)
    );
    assert_eq!(
        visible_reviews(&app, &creative, &order).await.len(),
        1,
        "only their own now"
    );
    assert_eq!(
        visible_reviews(&app, &client, &order).await.len(),
        2,
        "the author still sees theirs"
    );
}
