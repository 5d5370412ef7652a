//! The Stripe client against a local server that speaks the part of Stripe's API the service uses
//! (PaymentIntents and refunds), and Stripe's signed webhooks. Nothing leaves this machine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

use createspace::config::{ProviderSettings, StripeSettings};
use createspace::provider::stripe::sign;

use crate::helpers::{json_ok, problem, TestApp};
use crate::payments::{deal, ledger_holds, pay_with, Deal};

const KEY: &str = "sk_test_local_fake";
const WEBHOOK_SECRET: &str = "whsec_local_fake";

/// What the fake remembers: PaymentIntents by id, and by idempotency key (as Stripe replays).
#[derive(Default)]
struct Books {
    intents: HashMap<String, Value>,
    by_key: HashMap<String, String>,
    creates: usize,
}

type Shared = Arc<Mutex<Books>>;

fn authorized(req: &HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {KEY}"))
}

async fn create_intent(
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    books: web::Data<Shared>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"type": "invalid_request_error"}}));
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut b = books.lock().unwrap();
    if let Some(id) = b.by_key.get(&key) {
        return HttpResponse::Ok().json(b.intents[id].clone());
    }
    b.creates += 1;
    let id = format!("pi_{}", uuid::Uuid::new_v4().simple());
    let method = form.get("payment_method").cloned().unwrap_or_default();
    let (status, error) = match method.as_str() {
        "pm_card_visa" => ("succeeded", None),
        "pm_card_processing" => ("processing", None),
        "pm_card_authenticationRequired" => ("requires_action", None),
        _ => ("requires_payment_method", Some("card_declined")),
    };
    let intent = json!({"id": id, "object": "payment_intent", "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()),
        "currency": form.get("currency"), "status": status, "metadata": {"payment_id": form.get("metadata[payment_id]")},
        "last_payment_error": error.map(|c| json!({"code": c, "type": "card_error"})),
        "next_action": (status == "requires_action").then(|| json!({"type": "use_stripe_sdk"})),
        "livemode": false, "an_unknown_field": {"nested": true}});
    b.intents.insert(id.clone(), intent.clone());
    b.by_key.insert(key, id);
    match error {
        Some(code) => HttpResponse::PaymentRequired()
            .json(json!({"error": {"type": "card_error", "code": code, "payment_intent": intent}})),
        None => HttpResponse::Ok().json(intent),
    }
}

async fn confirm_intent(
    req: HttpRequest,
    id: web::Path<String>,
    books: web::Data<Shared>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let mut b = books.lock().unwrap();
    match b.intents.get_mut(id.as_str()) {
        Some(pi) => {
            pi["status"] = json!("succeeded");
            pi["next_action"] = Value::Null;
            HttpResponse::Ok().json(pi.clone())
        }
        None => HttpResponse::NotFound()
            .json(json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}})),
    }
}

async fn get_intent(
    req: HttpRequest,
    id: web::Path<String>,
    books: web::Data<Shared>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let b = books.lock().unwrap();
    match b.intents.get(id.as_str()) {
        Some(pi) => HttpResponse::Ok().json(pi.clone()),
        None => HttpResponse::NotFound()
            .json(json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}})),
    }
}

async fn create_refund(req: HttpRequest, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().json(
        json!({"id": format!("re_{}", uuid::Uuid::new_v4().simple()), "object": "refund",
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()), "status": "succeeded",
        "payment_intent": form.get("payment_intent")}),
    )
}

/// Starts the fake on a loopback port; its base URL and its books.
async fn fake_stripe() -> (String, Shared) {
    let books: Shared = Arc::default();
    let data = web::Data::new(books.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/v1/payment_intents", web::post().to(create_intent))
            .route(
                "/v1/payment_intents/{id}/confirm",
                web::post().to(confirm_intent),
            )
            .route("/v1/payment_intents/{id}", web::get().to(get_intent))
            .route("/v1/refunds", web::post().to(create_refund))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), books)
}

async fn app_on_stripe() -> (TestApp, Shared) {
    let (base, books) = fake_stripe().await;
    let app = TestApp::spawn_with(|s| {
        s.payments.provider = ProviderSettings::Stripe(StripeSettings {
            api_base: base,
            secret_key: KEY.to_string().into(),
            webhook_secret: WEBHOOK_SECRET.to_string().into(),
        });
    })
    .await;
    (app, books)
}

async fn webhook(app: &TestApp, body: &Value, signature: &str) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/v1/webhooks/stripe", None)
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn event(id: &str, kind: &str, object: &Value) -> Value {
    json!({"id": id, "object": "event", "type": kind, "api_version": "2024-06-20", "created": 1,
        "data": {"object": object}, "livemode": false, "pending_webhooks": 1, "request": {"id": null}})
}

#[tokio::test]
async fn the_stripe_client_charges_declines_and_confirms_through_the_api() {
    let (app, books) = app_on_stripe().await;
    let d = deal(&app, "in_progress", 10_000).await;
    let declined = pay_with(&app, &d, "pm_card_chargeDeclined").await;
    assert_eq!(
        (
            declined["status"].as_str(),
            declined["failure_code"].as_str()
        ),
        (Some("failed"), Some("card_declined"))
    );
    let sca = pay_with(&app, &d, "pm_card_authenticationRequired").await;
    assert_eq!(sca["status"], "requires_action");
    let id = sca["id"].as_str().unwrap();
    let done = json_ok(
        app.post(
            &format!("/v1/payments/{id}/confirm"),
            Some(&d.client.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(books.lock().unwrap().creates, 2);
    // A refund goes through the API too.
    let part = json!({"amount": {"amount": 1_000, "currency": "EUR"}});
    json_ok(
        app.post(
            &format!("/v1/payments/{id}/refunds"),
            Some(&d.creative.token),
            &part,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    crate::payments::settle(&app).await;
    let p = json_ok(
        app.get(&format!("/v1/payments/{id}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["amount_refunded"]["amount"], 1_000);
    ledger_holds(&app).await;
}

async fn processing(app: &TestApp) -> (Deal, String, String) {
    let d = deal(app, "in_progress", 10_000).await;
    let p = pay_with(app, &d, "pm_card_processing").await;
    assert_eq!(p["status"], "pending");
    let mut conn = app.conn().await;
    let id: uuid::Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let row = createspace::db::payments::find(&mut conn, id.into())
        .await
        .unwrap()
        .unwrap();
    (
        d,
        p["id"].as_str().unwrap().to_string(),
        row.provider_payment_id.unwrap(),
    )
}

#[tokio::test]
async fn a_signed_webhook_settles_a_payment_once_and_bad_signatures_change_nothing() {
    let (app, _books) = app_on_stripe().await;
    let (d, payment, pi) = processing(&app).await;
    let body = event(
        "evt_settle_1",
        "payment_intent.succeeded",
        &json!({"id": pi, "object": "payment_intent", "status": "succeeded", "metadata": {"payment_id": payment}}),
    );
    let now = chrono::Utc::now().timestamp();

    let tampered = {
        let mut b = body.clone();
        b["data"]["object"]["amount"] = json!(1);
        b
    };
    let res = webhook(
        &app,
        &tampered,
        &sign(body.to_string().as_bytes(), WEBHOOK_SECRET, now),
    )
    .await;
    assert_eq!(
        problem(res, StatusCode::BAD_REQUEST).await["code"],
        "invalid_signature"
    );
    let stale = sign(body.to_string().as_bytes(), WEBHOOK_SECRET, now - 600);
    assert_eq!(
        webhook(&app, &body, &stale).await.status(),
        StatusCode::BAD_REQUEST
    );
    let wrong_secret = sign(body.to_string().as_bytes(), "whsec_other", now);
    assert_eq!(
        webhook(&app, &body, &wrong_secret).await.status(),
        StatusCode::BAD_REQUEST
    );
    let p = json_ok(
        app.get(&format!("/v1/payments/{payment}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        p["status"], "pending",
        "nothing acted on an unverified body"
    );

    let valid = sign(body.to_string().as_bytes(), WEBHOOK_SECRET, now);
    assert_eq!(
        json_ok(webhook(&app, &body, &valid).await, StatusCode::OK).await["received"],
        true
    );
    let p = json_ok(
        app.get(&format!("/v1/payments/{payment}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["status"], "succeeded");
    let held = crate::payments::balance(&app, &d.client).await["spending"][0]["in_escrow"]
        ["amount"]
        .clone();
    assert_eq!(held, 10_000);

    // The same event again (Stripe retries): acknowledged, nothing counted twice.
    let again = sign(body.to_string().as_bytes(), WEBHOOK_SECRET, now + 1);
    assert_eq!(webhook(&app, &body, &again).await.status(), StatusCode::OK);
    // And a different event id for the same success: booked once all the same.
    let twin = event(
        "evt_settle_2",
        "payment_intent.succeeded",
        &body["data"]["object"],
    );
    let twin_sig = sign(twin.to_string().as_bytes(), WEBHOOK_SECRET, now);
    assert_eq!(
        webhook(&app, &twin, &twin_sig).await.status(),
        StatusCode::OK
    );
    let held = crate::payments::balance(&app, &d.client).await["spending"][0]["in_escrow"]
        ["amount"]
        .clone();
    assert_eq!(held, 10_000);
    ledger_holds(&app).await;
}

#[tokio::test]
async fn a_failed_payment_webhook_fails_the_payment_and_frees_the_invoice() {
    let (app, _books) = app_on_stripe().await;
    let (d, payment, pi) = processing(&app).await;
    let body = event(
        "evt_fail",
        "payment_intent.payment_failed",
        &json!({"id": pi, "object": "payment_intent", "status": "requires_payment_method",
               "last_payment_error": {"code": "insufficient_funds"}}),
    );
    let sig = sign(
        body.to_string().as_bytes(),
        WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(webhook(&app, &body, &sig).await.status(), StatusCode::OK);
    let p = json_ok(
        app.get(&format!("/v1/payments/{payment}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (p["status"].as_str(), p["failure_code"].as_str()),
        (Some("failed"), Some("insufficient_funds"))
    );
    let paid = pay_with(&app, &d, "pm_card_visa").await;
    assert_eq!(
        paid["status"], "succeeded",
        "the failed payment reserved nothing"
    );
}

#[tokio::test]
async fn without_stripe_configured_its_webhook_does_not_exist() {
    let app = TestApp::spawn().await;
    let body = event("evt_x", "payment_intent.succeeded", &json!({"id": "pi_x"}));
    let sig = sign(
        body.to_string().as_bytes(),
        WEBHOOK_SECRET,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(
        webhook(&app, &body, &sig).await.status(),
        StatusCode::NOT_FOUND
    );
}
