//! Payment terms over HTTP: proposed, countered and accepted at the version read.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

fn due(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

fn terms(amount: i64, method: &str) -> Value {
    json!({"amount": {"amount": amount, "currency": "EUR"}, "method": method,
           "due_at": due(20), "schedule": "upfront"})
}

async fn propose(
    app: &TestApp,
    user: &TestUser,
    order: &str,
    body: &Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .request(
            Method::PUT,
            &format!("/v1/orders/{order}/payment-terms"),
            Some(&user.token),
        )
        .json(body);
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    req.send().await.unwrap()
}

async fn accept(
    app: &TestApp,
    user: &TestUser,
    order: &str,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut req = app.request(
        Method::POST,
        &format!("/v1/orders/{order}/payment-terms/accept"),
        Some(&user.token),
    );
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn terms_are_proposed_countered_and_accepted_at_the_version_read() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;

    // An empty If-Match is an empty list: it matches no version, "none yet" included.
    let empty = propose(&app, &client, &order, &terms(15000, "card"), Some("")).await;
    problem(empty, StatusCode::PRECONDITION_FAILED).await;
    // An empty If-Match is an empty list: it matches no version, "none yet" included.
    let empty = propose(&app, &client, &order, &terms(15000, "card"), Some("")).await;
    problem(empty, StatusCode::PRECONDITION_FAILED).await;
    let res = propose(&app, &client, &order, &terms(15000, "card"), Some("\"0\"")).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let first = json_ok(res, StatusCode::OK).await;
    assert_eq!(first["current"]["status"], "proposed");
    assert_eq!(first["accepted"], Value::Null);

    // The creative reads version 1 and counters; the client, still on 1, cannot accept it.
    let seen = app
        .get(
            &format!("/v1/orders/{order}/payment-terms"),
            &creative.token,
        )
        .await;
    assert_eq!(seen.headers()["etag"], "\"1\"");
    let counter = propose(
        &app,
        &creative,
        &order,
        &terms(18000, "bank_transfer"),
        Some("\"1\""),
    )
    .await;
    assert_eq!(counter.status(), StatusCode::OK);
    let stale = problem(
        accept(&app, &client, &order, Some("\"1\"")).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(stale["current_version"], 2);
    let stale_put = propose(&app, &client, &order, &terms(16000, "card"), Some("\"1\"")).await;
    problem(stale_put, StatusCode::PRECONDITION_FAILED).await;
    problem(
        accept(&app, &client, &order, None).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    problem(
        accept(&app, &client, &order, Some("*")).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    let own = problem(
        accept(&app, &creative, &order, Some("\"2\"")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(own["code"], "own_proposal");

    let done = json_ok(
        accept(&app, &client, &order, Some("\"2\"")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["accepted"]["version"], 2);
    assert_eq!(done["accepted"]["accepted_by"], json!(client.id));
    assert_eq!(done["accepted"]["amount"]["amount"], 18000);
    let statuses: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted", "superseded"]);
    let again = problem(
        accept(&app, &client, &order, Some("\"2\"")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "already_accepted");

    // A new proposal needs acceptance again; until then the accepted terms stay in force.
    let third = json_ok(
        propose(&app, &client, &order, &terms(20000, "paypal"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(third["current"]["version"], 3);
    assert_eq!(third["current"]["status"], "proposed");
    assert_eq!(third["accepted"]["version"], 2);
    let fourth = json_ok(
        accept(&app, &creative, &order, Some("\"3\"")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fourth["accepted"]["amount"]["amount"], 20000);
    assert_eq!(fourth["accepted"]["proposer_role"], "client");
}

#[tokio::test]
async fn terms_that_do_not_hold_together_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("new", &client, &creative).await;
    let (end, mid) = (due(30), due(10));
    let milestones = |a: i64, b: i64| {
        json!({"amount": {"amount": 1000, "currency": "EUR"}, "method": "card",
        "due_at": end, "schedule": "milestones", "milestones": [
            {"title": "Sketches", "amount": {"amount": a, "currency": "EUR"}, "due_at": mid},
            {"title": "Final", "amount": {"amount": b, "currency": "EUR"}, "due_at": end}]})
    };
    let cases = [
        (milestones(400, 599), "milestones", "sum_mismatch"),
        (
            terms_with("currency", json!({"amount": 1000, "currency": "USD"})),
            "amount.currency",
            "currency_mismatch",
        ),
        (
            json!({"amount": {"amount": 1000, "currency": "EUR"}, "method": "card", "due_at": due(30),
            "schedule": "upfront", "milestones": [{"title": "x", "amount": {"amount": 1000, "currency": "EUR"},
            "due_at": due(10)}]}),
            "milestones",
            "not_allowed",
        ),
        (
            terms_with("due_at", json!(due(-1))),
            "due_at",
            "not_in_future",
        ),
    ];
    for (body, field, code) in cases {
        let body = problem(
            propose(&app, &client, &order, &body, None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    }
    let ok = propose(&app, &creative, &order, &milestones(400, 600), None).await;
    let ok = json_ok(ok, StatusCode::OK).await;
    assert_eq!(ok["current"]["milestones"][1]["amount"]["amount"], 600);
    // Nothing was kept of the refused ones.
    assert_eq!(ok["history"].as_array().unwrap().len(), 1);
}

fn terms_with(field: &str, value: Value) -> Value {
    let mut body = terms(1000, "card");
    if field == "currency" {
        body["amount"] = value;
    } else {
        body[field] = value;
    }
    body
}

#[tokio::test]
async fn only_the_parties_negotiate_and_outsiders_see_nothing() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let (outsider, admin) = (
        app.register("outsider").await,
        app.register_admin("admin").await,
    );
    let order = app.order_in("in_progress", &client, &creative).await;
    json_ok(
        propose(&app, &client, &order, &terms(15000, "card"), None).await,
        StatusCode::OK,
    )
    .await;
    let path = format!("/v1/orders/{order}/payment-terms");
    problem(app.get(&path, &outsider.token).await, StatusCode::NOT_FOUND).await;
    problem(
        propose(&app, &outsider, &order, &terms(1, "card"), None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        accept(&app, &outsider, &order, Some("\"1\"")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    json_ok(app.get(&path, &admin.token).await, StatusCode::OK).await;
    problem(
        propose(&app, &admin, &order, &terms(1, "card"), None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        accept(&app, &admin, &order, Some("\"1\"")).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let closed = app.order_in("cancelled", &client, &creative).await;
    let res = problem(
        propose(&app, &client, &closed, &terms(15000, "card"), None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(res["code"], "order_closed");
}

#[tokio::test]
async fn the_other_party_hears_of_a_proposal_and_the_proposer_of_its_acceptance() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    json_ok(
        propose(&app, &client, &order, &terms(15000, "card"), None).await,
        StatusCode::OK,
    )
    .await;
    wait_for_notification(&app, &creative, "payment_terms.proposed").await;
    json_ok(
        accept(&app, &creative, &order, Some("\"1\"")).await,
        StatusCode::OK,
    )
    .await;
    wait_for_notification(&app, &client, "payment_terms.accepted").await;
}

pub(crate) async fn wait_for_notification(
    app: &TestApp,
    user: &TestUser,
    event_type: &str,
) -> Value {
    for _ in 0..100 {
        let page: Value = app
            .get("/v1/notifications", &user.token)
            .await
            .json()
            .await
            .unwrap();
        if let Some(n) = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["event_type"] == event_type)
        {
            return n.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {event_type} notification reached {}", user.email);
}

#[tokio::test]
async fn proposals_are_rate_limited_per_user_at_the_default() {
    let defaults = createspace::config::Settings::from_lookup(&|_| None)
        .unwrap()
        .rate_limits;
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.terms_proposals_per_user_per_hour =
            defaults.terms_proposals_per_user_per_hour;
    })
    .await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    // Two orders, so the per-order cap on proposals is not what stops them.
    let orders = [
        app.order_in("in_progress", &client, &creative).await,
        app.order_in("in_progress", &client, &creative).await,
    ];
    let order = &orders[0];
    for i in 0..defaults.terms_proposals_per_user_per_hour {
        assert_eq!(
            propose(
                &app,
                &client,
                &orders[i as usize % 2],
                &terms(100, "card"),
                None
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
    let res = propose(&app, &client, order, &terms(100, "card"), None).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn each_party_makes_at_most_25_proposals_and_the_other_can_still_answer() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    for _ in 0..25 {
        let res = propose(&app, &client, &order, &terms(100, "card"), None).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = propose(&app, &client, &order, &terms(100, "card"), None).await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "too_many_proposals"
    );
    let counter = propose(&app, &creative, &order, &terms(200, "card"), None).await;
    assert_eq!(counter.status(), StatusCode::OK);
}
