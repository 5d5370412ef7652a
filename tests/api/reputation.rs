//! Profiles, ratings on services, and ordering again, against values computed here.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{json_ok, problem, TestApp, TestUser};
use crate::reviews::{profile, review};

async fn complete(app: &TestApp, client: &TestUser, creative: &TestUser, late: bool) -> String {
    let order = app.order_in("in_progress", client, creative).await;
    if late {
        app.sql(&format!(
            "UPDATE orders SET due_at = now() - interval '1 hour' WHERE id = '{order}'"
        ))
        .await;
    }
    for (user, to) in [(creative, "delivered"), (client, "completed")] {
        let res = app.transition(user, &order, to, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{to}");
    }
    order
}

#[tokio::test]
async fn a_profile_shows_averages_on_time_rate_and_response_time_as_computed_here() {
    let app = TestApp::spawn().await;
    let creative = app.register("creative").await;
    let mut orders = Vec::new();
    let scores = [(5, 4), (4, 5), (2, 3)];
    for (i, (rating, quality)) in scores.iter().enumerate() {
        let client = app.register(&format!("client{i}")).await;
        let order = complete(&app, &client, &creative, i == 2).await;
        let body = json!({"rating": rating, "sub_ratings": {"quality": quality}});
        json_ok(
            review(&app, &client, &order, body).await,
            StatusCode::CREATED,
        )
        .await;
        json_ok(
            review(&app, &creative, &order, json!({"rating": 5})).await,
            StatusCode::CREATED,
        )
        .await;
        orders.push(order);
    }
    // Answered after 60 s, 120 s and an hour: the median is 120 s.
    for (order, secs) in orders.iter().zip([60, 3600, 120]) {
        app.sql(&format!(
            "UPDATE orders SET created_at = first_response_at - interval '{secs} seconds' \
            WHERE id = '{order}'"
        ))
        .await;
    }
    let p = profile(&app, &creative).await;
    let c = &p["as_creative"];
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    let avg = |xs: &[i32]| round2(xs.iter().sum::<i32>() as f64 / xs.len() as f64);
    assert_eq!(c["rating"]["average"], avg(&[5, 4, 2]));
    assert_eq!(c["rating"]["quality"], avg(&[4, 5, 3]));
    assert_eq!(c["rating"]["count"], 3);
    assert_eq!(c["completed_orders"], 3);
    assert_eq!(c["on_time_delivery_rate"], round2(2.0 / 3.0));
    assert_eq!(c["median_first_response_seconds"], 120);
    assert_eq!(p["display_name"], "creative");
    let unknown = app
        .request(
            Method::GET,
            &format!("/v1/users/{}/profile", uuid::Uuid::now_v7()),
            None,
        )
        .send()
        .await
        .unwrap();
    problem(unknown, StatusCode::NOT_FOUND).await;
}

fn bayesian(sum: f64, count: f64) -> f64 {
    (4.0 * 10.0 + sum) / (10.0 + count)
}

#[tokio::test]
async fn services_sort_by_a_bayesian_rating_so_one_perfect_review_does_not_win() {
    let app = TestApp::spawn().await;
    let (one_five, many_good, unrated) = (
        app.register("one").await,
        app.register("many").await,
        app.register("none").await,
    );
    for u in [&one_five, &many_good, &unrated] {
        app.create_service(u).await;
    }
    // The sums as publishing would leave them (the arithmetic of publishing is tested above).
    app.sql(&format!(
        "INSERT INTO user_ratings (user_id, role, review_count, rating_sum) VALUES \
        ('{}', 'creative', 1, 5), ('{}', 'creative', 200, 980)",
        one_five.id, many_good.id
    ))
    .await;
    let mut expected = [
        (bayesian(5.0, 1.0), one_five.id),
        (bayesian(980.0, 200.0), many_good.id),
        (bayesian(0.0, 0.0), unrated.id),
    ];
    expected.sort_by(|a, b| b.0.total_cmp(&a.0));
    let want: Vec<String> = expected.iter().map(|(_, id)| id.to_string()).collect();

    let mut seen = Vec::new();
    let mut path = "/v1/services?sort=rating&limit=1".to_string();
    loop {
        let res = app.request(Method::GET, &path, None).send().await.unwrap();
        let page = json_ok(res, StatusCode::OK).await;
        for s in page["data"].as_array().unwrap() {
            seen.push(s["creative_id"].as_str().unwrap().to_string());
            if s["creative_id"] == json!(many_good.id) {
                assert_eq!(s["rating"]["average"], 4.9);
                assert_eq!(s["rating"]["count"], 200);
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/services?sort=rating&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, want);
}

#[tokio::test]
async fn ordering_again_takes_the_service_at_its_price_or_the_custom_order_with_a_new_date() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let service = app.create_service(&creative).await;
    let sid = service["id"].as_str().unwrap();
    let first = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"service_id": sid, "requirements": "A fox."}),
        )
        .await;
    let first = json_ok(first, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (user, to) in [
        (&creative, "in_progress"),
        (&creative, "delivered"),
        (&client, "completed"),
    ] {
        assert_eq!(
            app.transition(user, &first, to, None).await.status(),
            StatusCode::OK
        );
    }
    app.patch(
        &format!("/v1/services/{sid}"),
        &creative.token,
        &json!({"price": {"amount": 30000, "currency": "EUR"}}),
    )
    .await;
    let again = app
        .post(
            &format!("/v1/orders/{first}/reorder"),
            Some(&client.token),
            &json!({}),
        )
        .await;
    let again = json_ok(again, StatusCode::CREATED).await;
    assert_eq!(
        (
            again["service_id"].as_str(),
            again["price"]["amount"].as_i64()
        ),
        (Some(sid), Some(30000))
    );
    assert_eq!(again["requirements"], "A fox.");

    let custom = app.order_in("completed", &client, &creative).await;
    let path = format!("/v1/orders/{custom}/reorder");
    let missing = problem(
        app.post(&path, Some(&client.token), &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(missing["errors"][0]["field"], "due_at");
    problem(
        app.post(&path, Some(&creative.token), &json!({})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let due = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let body = json!({"due_at": due, "requirements": "Same, in winter."});
    let res = app
        .request(Method::POST, &path, Some(&client.token))
        .header("Idempotency-Key", "again-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    let copy = json_ok(res, StatusCode::CREATED).await;
    let original = app.order(&client, &custom).await;
    for field in ["title", "price", "revisions_included", "creative"] {
        assert_eq!(copy[field], original[field], "{field}");
    }
    assert_eq!(
        (copy["status"].as_str(), copy["requirements"].as_str()),
        (Some("new"), Some("Same, in winter."))
    );
    // A retry with the same key is the same order.
    let res = app
        .request(Method::POST, &path, Some(&client.token))
        .header("Idempotency-Key", "again-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(json_ok(res, StatusCode::CREATED).await["id"], copy["id"]);

    let open = app.order_in("in_progress", &client, &creative).await;
    let res = app
        .post(
            &format!("/v1/orders/{open}/reorder"),
            Some(&client.token),
            &json!({"due_at": due}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "order_not_completed"
    );
}
