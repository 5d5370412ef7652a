use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp};

#[tokio::test]
async fn ordering_a_service_snapshots_it_and_notifies_the_creative() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let service = json_ok(
        app.post(
            "/v1/services",
            Some(&ada.token),
            &json!({"title": "Logo design", "description": "", "price": {"amount": 15000, "currency": "EUR"},
                    "delivery_days": 7, "revisions_included": 2}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = app
        .post(
            "/v1/orders",
            Some(&grace.token),
            &json!({"service_id": service["id"], "requirements": "A fox."}),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let order = json_ok(res, StatusCode::CREATED).await;
    assert_eq!(
        location,
        format!("/v1/orders/{}", order["id"].as_str().unwrap())
    );
    assert_eq!(order["status"], "new");
    assert_eq!(order["title"], "Logo design");
    assert_eq!(order["price"], json!({"amount": 15000, "currency": "EUR"}));
    assert_eq!(order["revisions_included"], 2);
    assert_eq!(order["client"]["display_name"], "grace");
    assert_eq!(order["creative"]["id"], ada.id.to_string());
    assert_eq!(order["your_role"], "client");
    assert_eq!(order["allowed_transitions"], json!(["cancelled"]));

    // the price change after ordering does not touch the order
    let res = app
        .patch(
            &format!("/v1/services/{}", service["id"].as_str().unwrap()),
            &ada.token,
            &json!({"price": {"amount": 99900, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen_by_creative = app.order(&ada, order["id"].as_str().unwrap()).await;
    assert_eq!(seen_by_creative["price"]["amount"], 15000);
    assert_eq!(seen_by_creative["your_role"], "creative");
    assert_eq!(
        seen_by_creative["allowed_transitions"],
        json!(["in_progress", "declined"])
    );

    app.sql(&format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM outbox_events WHERE event_type = 'order.placed' \
         AND aggregate_id = '{}' AND recipients = ARRAY['{}'::uuid]) THEN RAISE EXCEPTION 'no order.placed event'; END IF; END $$",
        order["id"].as_str().unwrap(),
        ada.id
    ))
    .await;
}

#[tokio::test]
async fn invalid_orders_are_422_and_write_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    for (body, field) in [
        (
            json!({"creative_id": grace.id, "title": "x", "requirements": "y", "price": {"amount": 1, "currency": "EUR"},
                "due_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()}),
            "creative_id",
        ),
        (
            json!({"creative_id": ada.id, "title": "x", "requirements": "y", "price": {"amount": 1, "currency": "EUR"},
                "due_at": past}),
            "due_at",
        ),
        (json!({"creative_id": ada.id, "requirements": "y"}), "title"),
        (
            json!({"creative_id": uuid::Uuid::now_v7(), "title": "x", "requirements": "y",
                "price": {"amount": 1, "currency": "EUR"}, "due_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()}),
            "creative_id",
        ),
        (
            json!({"service_id": uuid::Uuid::now_v7(), "requirements": "y"}),
            "service_id",
        ),
        (
            json!({"creative_id": ada.id, "title": "x", "requirements": "", "price": {"amount": 1, "currency": "EUR"},
                "due_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()}),
            "requirements",
        ),
        (
            json!({"creative_id": ada.id, "title": "x", "requirements": "y", "price": {"amount": 1, "currency": "EUR"},
                "due_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(), "status": "completed"}),
            "status",
        ),
    ] {
        let res = app.post("/v1/orders", Some(&grace.token), &body).await;
        let problem = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
    let list = json_ok(app.get("/v1/orders", &grace.token).await, StatusCode::OK).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn outsiders_get_404_on_every_order_endpoint() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let eve = app.register("eve").await;
    let id = app.order_in("in_progress", &grace, &ada).await;
    let absent = uuid::Uuid::now_v7().to_string();
    for target in [&id, &absent] {
        let checks = [
            app.get(&format!("/v1/orders/{target}"), &eve.token).await,
            app.patch(
                &format!("/v1/orders/{target}"),
                &eve.token,
                &json!({"requirements": "mine"}),
            )
            .await,
            app.post(
                &format!("/v1/orders/{target}/transitions"),
                Some(&eve.token),
                &json!({"to": "cancelled"}),
            )
            .await,
            app.get(&format!("/v1/orders/{target}/transitions"), &eve.token)
                .await,
            app.post(
                &format!("/v1/orders/{target}/cancellation-request"),
                Some(&eve.token),
                &json!({"reason": "x"}),
            )
            .await,
            app.get(
                &format!("/v1/orders/{target}/cancellation-request"),
                &eve.token,
            )
            .await,
            app.post(
                &format!("/v1/orders/{target}/cancellation-request/response"),
                Some(&eve.token),
                &json!({"decision": "accept"}),
            )
            .await,
        ];
        for res in checks {
            let url = res.url().to_string();
            let body = problem(res, StatusCode::NOT_FOUND).await;
            assert_eq!(body["code"], "not_found", "{url}");
        }
    }
    let list = json_ok(app.get("/v1/orders", &eve.token).await, StatusCode::OK).await;
    assert!(list["data"].as_array().unwrap().is_empty());
    let dashboard = json_ok(app.get("/v1/dashboard", &eve.token).await, StatusCode::OK).await;
    assert_eq!(dashboard["as_client"]["in_progress"], 0);
}

#[tokio::test]
async fn admins_see_any_order() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let root = app.register_admin("root").await;
    let id = app.order_in("new", &grace, &ada).await;
    let order = app.order(&root, &id).await;
    assert_eq!(order["your_role"], "admin");
    assert_eq!(order["allowed_transitions"], json!([]));
}

#[tokio::test]
async fn the_client_edits_a_new_order_only() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let id = app.order_in("new", &grace, &ada).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/orders/{id}"),
            Some(&grace.token),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"requirements": "A fox, no text.", "due_at": due}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    let order = json_ok(res, StatusCode::OK).await;
    assert_eq!(order["requirements"], "A fox, no text.");

    let res = app
        .patch(
            &format!("/v1/orders/{id}"),
            &ada.token,
            &json!({"requirements": "x"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = app
        .patch(
            &format!("/v1/orders/{id}"),
            &grace.token,
            &json!({"price": {"amount": 1, "currency": "EUR"}}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;

    app.transition(&ada, &id, "in_progress", None).await;
    let res = app
        .patch(
            &format!("/v1/orders/{id}"),
            &grace.token,
            &json!({"requirements": "late change"}),
        )
        .await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "order_not_editable");
}

fn order_body(creative: uuid::Uuid) -> Value {
    json!({"creative_id": creative, "title": "Album cover", "requirements": "Moody.",
           "price": {"amount": 40000, "currency": "EUR"},
           "due_at": (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339()})
}

#[tokio::test]
async fn placing_an_order_is_idempotent_per_key_and_caller() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let body = order_body(ada.id);
    let send = |token: String, key: &'static str, body: Value| {
        let req = app
            .request(Method::POST, "/v1/orders", Some(&token))
            .header("Idempotency-Key", key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = json_ok(
        send(grace.token.clone(), "k-1", body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let replay = send(grace.token.clone(), "k-1", body.clone()).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay = json_ok(replay, StatusCode::CREATED).await;
    assert_eq!(replay["id"], first["id"]);

    let mut other = body.clone();
    other["title"] = json!("Something else");
    let res = send(grace.token.clone(), "k-1", other).await;
    let problem = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["code"], "key_reused");

    // keys are scoped to the caller: another client's k-1 is a new order
    let bob = app.register("bob").await;
    let theirs = json_ok(
        send(bob.token.clone(), "k-1", body.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(theirs["id"], first["id"]);

    let list = json_ok(
        app.get("/v1/orders?role=client", &grace.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_place_one_order() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let body = order_body(ada.id);
    let requests = (0..8).map(|_| {
        app.request(Method::POST, "/v1/orders", Some(&grace.token))
            .header("Idempotency-Key", "same-key")
            .json(&body)
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut ids = HashSet::new();
    for res in responses {
        let res = res.unwrap();
        match res.status() {
            StatusCode::CREATED => {
                ids.insert(
                    res.json::<Value>().await.unwrap()["id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            StatusCode::CONFLICT => {
                assert_eq!(
                    problem(res, StatusCode::CONFLICT).await["code"],
                    "idempotency_key_in_use"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ids.len(), 1);
    let list = json_ok(app.get("/v1/orders", &grace.token).await, StatusCode::OK).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_request_is_replayed_like_a_success() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let mut bad = order_body(ada.id);
    bad["price"] = json!({"amount": -1, "currency": "EUR"});
    let send = |body: &Value| {
        app.request(Method::POST, "/v1/orders", Some(&grace.token))
            .header("Idempotency-Key", "refused")
            .json(body)
            .send()
    };
    let first = problem(send(&bad).await.unwrap(), StatusCode::UNPROCESSABLE_ENTITY).await;
    let replay = send(&bad).await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        problem(replay, StatusCode::UNPROCESSABLE_ENTITY).await,
        first
    );
    // the key is spent on that body; a corrected request needs a new key
    let res = send(&order_body(ada.id)).await.unwrap();
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "key_reused"
    );
    let list = json_ok(app.get("/v1/orders", &grace.token).await, StatusCode::OK).await;
    assert!(list["data"].as_array().unwrap().is_empty());
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_have_no_duplicates_or_gaps_while_new_orders_arrive() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let mut placed = Vec::new();
    for _ in 0..7 {
        placed.push(
            app.place_order(&grace, &ada).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/orders?limit=3&cursor={c}"),
            None => "/v1/orders?limit=3".to_string(),
        };
        let page = json_ok(app.get(&path, &grace.token).await, StatusCode::OK).await;
        seen.extend(ids(&page));
        // a new order arrives between pages; it is newer than the cursor, so it never shifts the pages
        app.place_order(&grace, &ada).await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    placed.reverse();
    assert_eq!(seen, placed);
}

#[tokio::test]
async fn due_at_sort_pages_in_due_order() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let base = chrono::Utc::now() + chrono::Duration::days(2);
    let mut expected = Vec::new();
    for days in [5, 1, 3, 1, 4] {
        let due = (base + chrono::Duration::days(days)).to_rfc3339();
        let order = app
            .place_order_with(&grace, &ada, json!({"due_at": due}))
            .await;
        expected.push((days, order["id"].as_str().unwrap().to_string()));
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut path = "/v1/orders?sort=due_at&limit=2".to_string();
    loop {
        let page = json_ok(app.get(&path, &grace.token).await, StatusCode::OK).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/orders?sort=due_at&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    );

    // a cursor of one sort order is refused by the other
    let page = json_ok(
        app.get("/v1/orders?sort=due_at&limit=1", &grace.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let c = page["next_cursor"].as_str().unwrap();
    let res = app
        .get(&format!("/v1/orders?cursor={c}"), &grace.token)
        .await;
    assert_eq!(
        problem(res, StatusCode::BAD_REQUEST).await["code"],
        "invalid_cursor"
    );
    let res = app.get("/v1/orders?cursor=", &grace.token).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "an empty cursor is the first page"
    );
    let res = app.get("/v1/orders?cursor=garbage", &grace.token).await;
    problem(res, StatusCode::BAD_REQUEST).await;
    let res = app.get("/v1/orders?limit=101", &grace.token).await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn list_filters_by_role_status_late_text_and_due_date() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    let new_id = app.order_in("new", &grace, &ada).await;
    let wip_id = app.order_in("in_progress", &grace, &ada).await;
    let done_id = app.order_in("completed", &grace, &ada).await;
    // ada also orders from grace: she is client there
    let reverse = app
        .place_order_with(&ada, &grace, json!({"title": "Podcast edit"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // make the in-progress order late
    app.sql(&format!(
        "UPDATE orders SET due_at = now() - interval '2 hours' WHERE id = '{wip_id}'"
    ))
    .await;

    let q = |path: &str| {
        let path = path.to_string();
        let token = ada.token.clone();
        let app = &app;
        async move {
            let page = json_ok(app.get(&path, &token).await, StatusCode::OK).await;
            let mut v = ids(&page);
            v.sort();
            v
        }
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(
        q("/v1/orders").await,
        sorted(vec![&new_id, &wip_id, &done_id, &reverse])
    );
    assert_eq!(
        q("/v1/orders?role=creative").await,
        sorted(vec![&new_id, &wip_id, &done_id])
    );
    assert_eq!(q("/v1/orders?role=client").await, sorted(vec![&reverse]));
    assert_eq!(
        q("/v1/orders?status=new").await,
        sorted(vec![&new_id, &reverse])
    );
    assert_eq!(
        q("/v1/orders?status=in_progress,completed").await,
        sorted(vec![&wip_id, &done_id])
    );
    assert_eq!(q("/v1/orders?late=true").await, sorted(vec![&wip_id]));
    assert_eq!(
        q("/v1/orders?late=false").await,
        sorted(vec![&new_id, &done_id, &reverse])
    );
    assert_eq!(q("/v1/orders?q=podcast").await, sorted(vec![&reverse]));
    let soon = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        q(&format!("/v1/orders?due_before={soon}")).await,
        sorted(vec![&wip_id])
    );

    let late = app.order(&ada, &wip_id).await;
    assert_eq!(late["late"], true);
    let res = app.get("/v1/orders?status=bogus", &ada.token).await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn the_dashboard_counts_by_role_status_lateness_and_due_soon() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let grace = app.register("grace").await;
    app.order_in("new", &grace, &ada).await;
    let wip = app.order_in("in_progress", &grace, &ada).await;
    app.order_in("completed", &grace, &ada).await;
    app.place_order_with(
        &ada,
        &grace,
        json!({"due_at": (chrono::Utc::now() + chrono::Duration::hours(20)).to_rfc3339()}),
    )
    .await;
    app.sql(&format!(
        "UPDATE orders SET due_at = now() - interval '1 hour' WHERE id = '{wip}'"
    ))
    .await;

    let d = json_ok(app.get("/v1/dashboard", &ada.token).await, StatusCode::OK).await;
    assert_eq!(d["as_creative"]["new"], 1);
    assert_eq!(d["as_creative"]["in_progress"], 1);
    assert_eq!(d["as_creative"]["completed"], 1);
    assert_eq!(d["as_client"]["new"], 1);
    assert_eq!(d["as_client"]["completed"], 0);
    assert_eq!(d["late"], 1);
    assert_eq!(d["due_within_48h"], 1);
}
