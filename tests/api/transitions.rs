use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

struct Cast {
    client: TestUser,
    creative: TestUser,
    admin: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    Cast {
        client: app.register("grace").await,
        creative: app.register("ada").await,
        admin: app.register_admin("root").await,
    }
}

impl Cast {
    fn by(&self, who: &str) -> &TestUser {
        match who {
            "client" => &self.client,
            "creative" => &self.creative,
            "admin" => &self.admin,
            other => panic!("no actor {other}"),
        }
    }
}

/// Every allowed row of the table, by its actor.
#[tokio::test]
async fn every_allowed_move_succeeds_for_its_actor() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let rows = [
        ("new", "in_progress", "creative"),
        ("new", "declined", "creative"),
        ("new", "cancelled", "client"),
        ("in_progress", "delivered", "creative"),
        ("delivered", "completed", "client"),
        ("delivered", "in_progress", "client"),
        ("in_progress", "disputed", "client"),
        ("in_progress", "disputed", "creative"),
        ("delivered", "disputed", "client"),
        ("delivered", "disputed", "creative"),
        ("in_progress", "cancelled", "admin"),
    ];
    // Disputes end through `dispute-resolution` (tests/api/support_admin.rs), not a bare move.
    for (from, to, who) in rows {
        let id = app.order_in(from, &c.client, &c.creative).await;
        let res = app.transition(c.by(who), &id, to, Some("a reason")).await;
        let order = json_ok(res, StatusCode::OK).await;
        assert_eq!(order["status"], to, "{from} -> {to} by {who}");
    }
}

#[tokio::test]
async fn moves_the_machine_does_not_have_are_409_with_the_allowed_moves() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let cases = [
        ("new", "completed", "client"),
        ("new", "delivered", "creative"),
        ("completed", "in_progress", "client"),
        ("declined", "in_progress", "creative"),
        ("cancelled", "new", "client"),
        ("in_progress", "new", "creative"),
        ("disputed", "delivered", "creative"),
    ];
    for (from, to, who) in cases {
        let id = app.order_in(from, &c.client, &c.creative).await;
        let before = app.order(&c.client, &id).await;
        let res = app.transition(c.by(who), &id, to, Some("x")).await;
        let body = problem(res, StatusCode::CONFLICT).await;
        assert_eq!(body["code"], "invalid_transition", "{from} -> {to}");
        assert_eq!(body["current_status"], from);
        assert!(body["allowed_transitions"].is_array());
        let after = app.order(&c.client, &id).await;
        assert_eq!(after["version"], before["version"], "nothing written");
    }
}

#[tokio::test]
async fn wrong_actors_are_403() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let cases = [
        ("new", "in_progress", "client"),
        ("new", "in_progress", "admin"),
        ("new", "declined", "client"),
        ("new", "cancelled", "creative"),
        ("in_progress", "delivered", "client"),
        ("delivered", "completed", "creative"),
        ("delivered", "in_progress", "creative"),
        ("disputed", "completed", "client"),
        ("disputed", "cancelled", "creative"),
        ("in_progress", "cancelled", "creative"),
        ("delivered", "cancelled", "client"),
        ("delivered", "cancelled", "creative"),
    ];
    for (from, to, who) in cases {
        let id = app.order_in(from, &c.client, &c.creative).await;
        let res = app.transition(c.by(who), &id, to, Some("x")).await;
        let body = problem(res, StatusCode::FORBIDDEN).await;
        assert_eq!(
            body["code"], "transition_forbidden",
            "{from} -> {to} by {who}"
        );
    }
}

#[tokio::test]
async fn declining_and_disputing_need_a_reason() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("new", &c.client, &c.creative).await;
    let res = app.transition(&c.creative, &id, "declined", None).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "note");
    let res = app.transition(&c.creative, &id, "bogus", None).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "to");
}

#[tokio::test]
async fn revisions_are_counted_and_limited() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("delivered", &c.client, &c.creative).await;
    let order = json_ok(
        app.transition(&c.client, &id, "in_progress", Some("darker"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(order["revisions_used"], 1);
    assert!(order["auto_complete_at"].is_null());
    json_ok(
        app.transition(&c.creative, &id, "delivered", None).await,
        StatusCode::OK,
    )
    .await;
    let res = app
        .transition(&c.client, &id, "in_progress", Some("again"))
        .await;
    let body = problem(res, StatusCode::CONFLICT).await;
    assert_eq!(body["code"], "no_revisions_left");
    assert_eq!(
        body["allowed_transitions"],
        json!(["completed", "disputed"])
    );
}

#[tokio::test]
async fn a_client_cancels_an_order_in_progress_alone_only_when_late_enough() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("in_progress", &c.client, &c.creative).await;
    app.sql(&format!(
        "UPDATE orders SET due_at = now() - interval '2 hours' WHERE id = '{id}'"
    ))
    .await;
    let body = problem(
        app.transition(&c.client, &id, "cancelled", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["code"], "not_late_enough");
    app.sql(&format!(
        "UPDATE orders SET due_at = now() - interval '25 hours' WHERE id = '{id}'"
    ))
    .await;
    let order = app.order(&c.client, &id).await;
    assert!(order["allowed_transitions"]
        .as_array()
        .unwrap()
        .contains(&json!("cancelled")));
    let order = json_ok(
        app.transition(&c.client, &id, "cancelled", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(order["status"], "cancelled");
}

#[tokio::test]
async fn the_whole_life_of_an_order_is_in_its_history() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("completed", &c.client, &c.creative).await;
    let history = json_ok(
        app.get(&format!("/v1/orders/{id}/transitions"), &c.creative.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let rows = history["data"].as_array().unwrap();
    let steps: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|r| (r["from"].clone(), r["to"].clone(), r["actor_role"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("new"), json!("client")),
            (json!("new"), json!("in_progress"), json!("creative")),
            (json!("in_progress"), json!("delivered"), json!("creative")),
            (json!("delivered"), json!("completed"), json!("client")),
        ]
    );
    assert_eq!(rows[1]["actor_id"], c.creative.id.to_string());
    assert_eq!(rows[1]["note"], "because");
}

#[tokio::test]
async fn stale_if_match_is_412_and_current_if_match_succeeds() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("new", &c.client, &c.creative).await;
    let post = |version: &str| {
        app.request(
            Method::POST,
            &format!("/v1/orders/{id}/transitions"),
            Some(&c.creative.token),
        )
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"to": "in_progress"}))
        .send()
    };
    let body = problem(post("7").await.unwrap(), StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["current_version"], 1);
    let res = post("1").await.unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    assert_eq!(json_ok(res, StatusCode::OK).await["status"], "in_progress");
}

#[tokio::test]
async fn twenty_racing_transitions_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("new", &c.client, &c.creative).await;
    let requests = (0..20).map(|i| {
        // half confirm, half decline: whichever lands first wins, all others lose
        let to = if i % 2 == 0 {
            "in_progress"
        } else {
            "declined"
        };
        app.request(
            Method::POST,
            &format!("/v1/orders/{id}/transitions"),
            Some(&c.creative.token),
        )
        .json(&json!({"to": to, "note": "race"}))
        .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut winners = 0;
    for res in responses {
        let res = res.unwrap();
        match res.status() {
            StatusCode::OK => winners += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(winners, 1);
    let history = json_ok(
        app.get(&format!("/v1/orders/{id}/transitions"), &c.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        history["data"].as_array().unwrap().len(),
        2,
        "placement + exactly one move"
    );
    let order = app.order(&c.client, &id).await;
    assert_eq!(order["version"], 2);
}

async fn wait_for_status(app: &TestApp, user: &TestUser, id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let order = app.order(user, id).await;
        if order["status"] == status {
            return order;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("order {id} never reached {status}");
}

#[tokio::test]
async fn delivered_orders_complete_by_themselves_after_the_configured_delay() {
    let app =
        TestApp::spawn_with(|s| s.orders.auto_complete_after = Duration::from_millis(300)).await;
    let c = cast(&app).await;
    let id = app.order_in("delivered", &c.client, &c.creative).await;
    let delivered = app.order(&c.client, &id).await;
    assert!(delivered["auto_complete_at"].is_string());
    let order = wait_for_status(&app, &c.client, &id, "completed").await;
    assert!(order["auto_complete_at"].is_null());
    let history = json_ok(
        app.get(&format!("/v1/orders/{id}/transitions"), &c.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    let last = history["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor_role"], "system");
    assert!(last["actor_id"].is_null());
}

#[tokio::test]
async fn a_client_action_before_the_delay_stops_auto_completion() {
    let app =
        TestApp::spawn_with(|s| s.orders.auto_complete_after = Duration::from_millis(400)).await;
    let c = cast(&app).await;
    let id = app.order_in("delivered", &c.client, &c.creative).await;
    let disputed = json_ok(
        app.transition(&c.client, &id, "disputed", Some("missing files"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(
        disputed["auto_complete_at"].is_null(),
        "the clock stops when the order leaves delivered"
    );
    // A control order delivered at the same time, left alone: once the worker has completed it, it
    // has also looked at the disputed one (and must have left it alone).
    let control = app.order_in("delivered", &c.client, &c.creative).await;
    let mut completed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.order(&c.client, &control).await["status"] == "completed" {
            completed = true;
            break;
        }
    }
    assert!(completed, "the worker ran within the window");
    assert_eq!(app.order(&c.client, &id).await["status"], "disputed");
}

#[tokio::test]
async fn a_cancellation_request_accepted_by_the_other_party_cancels_the_order() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("in_progress", &c.client, &c.creative).await;
    let path = format!("/v1/orders/{id}/cancellation-request");
    let req = json_ok(
        app.post(
            &path,
            Some(&c.creative.token),
            &json!({"reason": "I fell ill"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(req["status"], "pending");
    assert_eq!(req["requester_role"], "creative");

    // one pending request at a time; the requester cannot answer their own
    let res = app
        .post(&path, Some(&c.client.token), &json!({"reason": "me too"}))
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "cancellation_request_pending"
    );
    let res = app
        .post(
            &format!("{path}/response"),
            Some(&c.creative.token),
            &json!({"decision": "accept"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;

    let resolved = json_ok(
        app.post(
            &format!("{path}/response"),
            Some(&c.client.token),
            &json!({"decision": "accept"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["status"], "accepted");
    assert_eq!(resolved["resolved_by"], c.client.id.to_string());
    assert_eq!(app.order(&c.client, &id).await["status"], "cancelled");
}

#[tokio::test]
async fn a_rejected_cancellation_request_leaves_the_order_alone() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("delivered", &c.client, &c.creative).await;
    let path = format!("/v1/orders/{id}/cancellation-request");
    json_ok(
        app.post(
            &path,
            Some(&c.client.token),
            &json!({"reason": "Not what I asked"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let resolved = json_ok(
        app.post(
            &format!("{path}/response"),
            Some(&c.creative.token),
            &json!({"decision": "reject"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["status"], "rejected");
    assert_eq!(app.order(&c.client, &id).await["status"], "delivered");
    let latest = json_ok(app.get(&path, &c.client.token).await, StatusCode::OK).await;
    assert_eq!(latest["status"], "rejected");
    let res = app
        .post(
            &format!("{path}/response"),
            Some(&c.creative.token),
            &json!({"decision": "accept"}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "no_pending_cancellation_request"
    );
}

#[tokio::test]
async fn cancellation_requests_need_an_order_in_progress_or_delivered() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    let id = app.order_in("new", &c.client, &c.creative).await;
    let res = app
        .post(
            &format!("/v1/orders/{id}/cancellation-request"),
            Some(&c.client.token),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "invalid_transition"
    );
    let res = app
        .get(
            &format!("/v1/orders/{id}/cancellation-request"),
            &c.client.token,
        )
        .await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_unanswered_cancellation_request_is_accepted_by_the_system() {
    let app = TestApp::spawn_with(|s| {
        s.orders.cancellation_auto_accept_after = Duration::from_millis(300);
    })
    .await;
    let c = cast(&app).await;
    let id = app.order_in("in_progress", &c.client, &c.creative).await;
    json_ok(
        app.post(
            &format!("/v1/orders/{id}/cancellation-request"),
            Some(&c.client.token),
            &json!({"reason": "Budget cut"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    wait_for_status(&app, &c.client, &id, "cancelled").await;
    let request = json_ok(
        app.get(
            &format!("/v1/orders/{id}/cancellation-request"),
            &c.client.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(request["status"], "accepted");
    assert!(request["resolved_by"].is_null());
}

#[tokio::test]
async fn accepting_a_cancellation_while_the_order_moves_leaves_them_consistent() {
    let app = TestApp::spawn().await;
    let c = cast(&app).await;
    for _ in 0..5 {
        let id = app.order_in("in_progress", &c.client, &c.creative).await;
        let path = format!("/v1/orders/{id}/cancellation-request");
        json_ok(
            app.post(&path, Some(&c.creative.token), &json!({"reason": "ill"}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let response_path = format!("{path}/response");
        let decision = json!({"decision": "accept"});
        let accept = app.post(&response_path, Some(&c.client.token), &decision);
        let dispute = app.transition(&c.client, &id, "disputed", Some("late and silent"));
        let (accept, dispute) = tokio::join!(accept, dispute);
        let statuses = [accept.status(), dispute.status()];
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        let order = app.order(&c.client, &id).await;
        let request = json_ok(app.get(&path, &c.client.token).await, StatusCode::OK).await;
        match order["status"].as_str().unwrap() {
            "cancelled" => assert_eq!(request["status"], "accepted"),
            "disputed" => assert_eq!(request["status"], "rejected"),
            other => panic!("unexpected status {other}"),
        }
    }
}
