//! Paying invoices through the platform: each sandbox card, escrow and its release less the fee,
//! refunds on cancellation, payouts, and the idempotency that keeps a retry from charging twice.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};
use crate::invoices::{act, billing_profile, draft, lines};

pub(crate) struct Deal {
    pub client: TestUser,
    pub creative: TestUser,
    pub order: String,
    pub invoice: String,
}

/// An order in `status` and a sent invoice of `amount` EUR cents on it.
pub(crate) async fn deal(app: &TestApp, status: &str, amount: i64) -> Deal {
    let client = app
        .register(&format!("client-{}", uuid::Uuid::new_v4().simple()))
        .await;
    let creative = app
        .register(&format!("creative-{}", uuid::Uuid::new_v4().simple()))
        .await;
    let order = app.order_in(status, &client, &creative).await;
    let invoice = sent_invoice(app, &creative, &order, amount).await;
    Deal {
        client,
        creative,
        order,
        invoice,
    }
}

pub(crate) async fn sent_invoice(
    app: &TestApp,
    creative: &TestUser,
    order: &str,
    amount: i64,
) -> String {
    billing_profile(app, creative, "Studio Ltd").await;
    let inv = json_ok(
        draft(
            app,
            creative,
            order,
            json!({"line_items": lines(&[(1, amount)])}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap().to_string();
    json_ok(act(app, creative, &id, "send", None).await, StatusCode::OK).await;
    id
}

pub(crate) async fn pay(
    app: &TestApp,
    user: &TestUser,
    invoice: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/v1/invoices/{invoice}/payments"),
        Some(&user.token),
    )
    .header("Idempotency-Key", key)
    .json(&body)
    .send()
    .await
    .unwrap()
}

pub(crate) async fn pay_with(app: &TestApp, d: &Deal, method: &str) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    json_ok(
        pay(
            app,
            &d.client,
            &d.invoice,
            &key,
            json!({"payment_method": method}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

pub(crate) async fn balance(app: &TestApp, user: &TestUser) -> Value {
    json_ok(app.get("/v1/balance", &user.token).await, StatusCode::OK).await
}

/// The ledger's invariants hold (the `ledger check` command's query).
pub(crate) async fn ledger_holds(app: &TestApp) {
    let mut conn = app.conn().await;
    let problems = createspace::db::ledger::check(&mut conn).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// What one platform-wide account holds in EUR (`platform_fees`, `refunds_in_flight`…).
pub(crate) async fn platform(app: &TestApp, kind: &str) -> i64 {
    use createspace::domain::payments::Account;
    let account = match kind {
        "platform_fees" => Account::PlatformFees,
        "refunds_in_flight" => Account::RefundsInFlight,
        _ => Account::PayoutsInFlight,
    };
    let mut conn = app.conn().await;
    createspace::db::ledger::balance(&mut conn, account, "EUR")
        .await
        .unwrap()
}

/// Runs the money worker's round until nothing is left to do.
pub(crate) async fn settle(app: &TestApp) {
    let provider = createspace::provider::Provider::new(&app.settings.payments).unwrap();
    for _ in 0..20 {
        let n = createspace::jobs::move_money_once(
            &app.pool,
            &provider,
            app.settings.orders.platform_fee_bps,
        )
        .await
        .unwrap();
        if n == 0 {
            return;
        }
    }
}

async fn finish(app: &TestApp, d: &Deal) {
    json_ok(
        app.transition(&d.creative, &d.order, "delivered", None)
            .await,
        StatusCode::OK,
    )
    .await;
    json_ok(
        app.transition(&d.client, &d.order, "completed", None).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_paid_invoice_is_held_in_escrow_and_completion_releases_it_less_the_fee() {
    let app = TestApp::spawn().await;
    let d = deal(&app, "in_progress", 10_000).await;
    let payment = pay_with(&app, &d, "pm_card_visa").await;
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(
        payment["amount"],
        json!({"amount": 10_000, "currency": "EUR"})
    );
    let invoice = json_ok(
        app.get(&format!("/v1/invoices/{}", d.invoice), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 10_000);
    let b = balance(&app, &d.creative).await;
    assert_eq!(b["earnings"][0]["pending"]["amount"], 10_000);
    assert_eq!(b["earnings"][0]["available"]["amount"], 0);
    assert_eq!(
        balance(&app, &d.client).await["spending"][0]["in_escrow"]["amount"],
        10_000
    );

    finish(&app, &d).await;
    let b = balance(&app, &d.creative).await;
    assert_eq!(b["earnings"][0]["pending"]["amount"], 0);
    assert_eq!(
        b["earnings"][0]["available"]["amount"], 9_000,
        "paid less the 10 % fee"
    );
    assert_eq!(platform(&app, "platform_fees").await, 1_000);
    let dash = json_ok(
        app.get("/v1/dashboard", &d.creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dash["money"]["earnings"][0]["available"]["amount"], 9_000);
    ledger_holds(&app).await;

    // Nobody else sees the payment.
    let outsider = app.register("outsider").await;
    let res = app
        .get(
            &format!("/v1/payments/{}", payment["id"].as_str().unwrap()),
            &outsider.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let list = json_ok(
        app.get(
            &format!("/v1/payments?invoice_id={}", d.invoice),
            &d.creative.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn each_sandbox_card_does_what_its_name_says() {
    let app = TestApp::spawn().await;
    let declined = deal(&app, "in_progress", 5_000).await;
    let p = pay_with(&app, &declined, "pm_card_chargeDeclined").await;
    assert_eq!(
        (p["status"].as_str(), p["failure_code"].as_str()),
        (Some("failed"), Some("card_declined"))
    );
    let p = pay_with(&app, &declined, "pm_card_chargeDeclinedProcessingError").await;
    assert_eq!(p["failure_code"], "processing_error");
    let p = pay_with(&app, &declined, "tok_nonsense").await;
    assert_eq!(p["failure_code"], "invalid_payment_method");
    // Failures reserve nothing: the whole amount is still payable, by test number too.
    let p = pay_with(&app, &declined, "4242 4242 4242 4242").await;
    assert_eq!(p["status"], "succeeded");

    let slow = deal(&app, "in_progress", 5_000).await;
    let p = pay_with(&app, &slow, "pm_card_processing").await;
    assert_eq!(p["status"], "pending");
    // While it is pending its amount is reserved.
    let again = pay(
        &app,
        &slow.client,
        &slow.invoice,
        "second",
        json!({"payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(
        problem(again, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "nothing_due"
    );
    let id = p["id"].as_str().unwrap();
    let mut settled = Value::Null;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        settle(&app).await;
        settled = json_ok(
            app.get(&format!("/v1/payments/{id}"), &slow.client.token)
                .await,
            StatusCode::OK,
        )
        .await;
        if settled["status"] != "pending" {
            break;
        }
    }
    assert_eq!(settled["status"], "succeeded", "the worker settles it");

    let sca = deal(&app, "in_progress", 5_000).await;
    let p = pay_with(&app, &sca, "pm_card_authenticationRequired").await;
    assert_eq!(p["status"], "requires_action");
    assert!(p["next_action"]["redirect_to_url"]["url"].is_string());
    let id = p["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/v1/payments/{id}/confirm"),
            Some(&sca.creative.token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let confirmed = json_ok(
        app.post(
            &format!("/v1/payments/{id}/confirm"),
            Some(&sca.client.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded");
    let twice = app
        .post(
            &format!("/v1/payments/{id}/confirm"),
            Some(&sca.client.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(twice, StatusCode::CONFLICT).await["code"],
        "nothing_to_confirm"
    );
    ledger_holds(&app).await;
}

#[tokio::test]
async fn parts_are_paid_only_under_milestone_terms_and_never_past_what_is_due() {
    let app = TestApp::spawn().await;
    let d = deal(&app, "in_progress", 10_000).await;
    let part =
        json!({"payment_method": "pm_card_visa", "amount": {"amount": 4_000, "currency": "EUR"}});
    let res = pay(&app, &d.client, &d.invoice, "k1", part.clone()).await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "partial_not_allowed"
    );
    let over =
        json!({"payment_method": "pm_card_visa", "amount": {"amount": 10_001, "currency": "EUR"}});
    let res = pay(&app, &d.client, &d.invoice, "k2", over).await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "amount_exceeds_due"
    );
    let usd =
        json!({"payment_method": "pm_card_visa", "amount": {"amount": 100, "currency": "USD"}});
    let res = pay(&app, &d.client, &d.invoice, "k3", usd).await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "currency_mismatch"
    );
    let res = app
        .request(
            Method::POST,
            &format!("/v1/invoices/{}/payments", d.invoice),
            Some(&d.client.token),
        )
        .json(&json!({"payment_method": "pm_card_visa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res, StatusCode::BAD_REQUEST).await["code"],
        "idempotency_key_required"
    );
    let res = pay(
        &app,
        &d.creative,
        &d.invoice,
        "k4",
        json!({"payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "not_the_client"
    );

    // Milestone terms, accepted: parts are fine.
    let due = (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339();
    let terms = json!({"amount": {"amount": 15_000, "currency": "EUR"}, "method": "card", "due_at": due,
        "schedule": "milestones", "milestones": [
            {"title": "Sketch", "amount": {"amount": 5_000, "currency": "EUR"}, "due_at": due},
            {"title": "Final", "amount": {"amount": 10_000, "currency": "EUR"}, "due_at": due}]});
    let res = app
        .request(
            Method::PUT,
            &format!("/v1/orders/{}/payment-terms", d.order),
            Some(&d.creative.token),
        )
        .json(&terms)
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/orders/{}/payment-terms/accept", d.order),
            Some(&d.client.token),
        )
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
    let first = json_ok(
        pay(&app, &d.client, &d.invoice, "k5", part.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["status"], "succeeded");
    let inv = json_ok(
        app.get(&format!("/v1/invoices/{}", d.invoice), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (inv["status"].as_str(), inv["amount_paid"].as_i64()),
        (Some("open"), Some(4_000))
    );
    let rest = json_ok(
        pay(
            &app,
            &d.client,
            &d.invoice,
            "k6",
            json!({"payment_method": "pm_card_visa"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(rest["amount"]["amount"], 6_000);
    let inv = json_ok(
        app.get(&format!("/v1/invoices/{}", d.invoice), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(inv["status"], "paid");
    let res = pay(
        &app,
        &d.client,
        &d.invoice,
        "k7",
        json!({"payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "invoice_not_open"
    );
    ledger_holds(&app).await;
}

#[tokio::test]
async fn one_key_fired_fifty_times_at_once_charges_once_and_everyone_gets_that_payment() {
    let app = TestApp::spawn().await;
    let d = deal(&app, "in_progress", 10_000).await;
    let body = json!({"payment_method": "pm_card_visa"});
    let calls = (0..50).map(|_| {
        let (app, d, body) = (&app, &d, body.clone());
        async move {
            // A caller whose twin is still running is told 409 and retries, as a client would.
            for _ in 0..200 {
                let res = pay(app, &d.client, &d.invoice, "the-one-key", body.clone()).await;
                if res.status() == StatusCode::CONFLICT {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                return json_ok(res, StatusCode::CREATED).await["id"].clone();
            }
            panic!("never answered");
        }
    });
    let ids = futures_util::future::join_all(calls).await;
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let list = json_ok(
        app.get(
            &format!("/v1/payments?invoice_id={}", d.invoice),
            &d.client.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "charged once");
    assert_eq!(
        balance(&app, &d.client).await["spending"][0]["in_escrow"]["amount"],
        10_000
    );
    // The same key with another body is refused.
    let other = pay(
        &app,
        &d.client,
        &d.invoice,
        "the-one-key",
        json!({"payment_method": "pm_card_chargeDeclined"}),
    )
    .await;
    assert_eq!(
        problem(other, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "key_reused"
    );
    ledger_holds(&app).await;
}

#[tokio::test]
async fn cancelling_refunds_the_client_and_a_creative_refunds_part_while_the_order_is_open() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin("support").await;
    let d = deal(&app, "in_progress", 10_000).await;
    let payment = pay_with(&app, &d, "pm_card_visa").await;
    let pid = payment["id"].as_str().unwrap();

    // A part, by the creative.
    let res = app
        .post(
            &format!("/v1/payments/{pid}/refunds"),
            Some(&d.client.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "not_the_creative"
    );
    let too_much = json!({"amount": {"amount": 10_001, "currency": "EUR"}});
    let res = app
        .post(
            &format!("/v1/payments/{pid}/refunds"),
            Some(&d.creative.token),
            &too_much,
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "exceeds_refundable"
    );
    let part = json!({"amount": {"amount": 2_500, "currency": "EUR"}});
    let refund = json_ok(
        app.post(
            &format!("/v1/payments/{pid}/refunds"),
            Some(&d.creative.token),
            &part,
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(refund["status"], "pending");
    settle(&app).await;
    assert_eq!(
        balance(&app, &d.client).await["spending"][0]["in_escrow"]["amount"],
        7_500
    );

    // Cancelling refunds the rest.
    json_ok(
        app.transition(&admin, &d.order, "cancelled", Some("Client asked support"))
            .await,
        StatusCode::OK,
    )
    .await;
    settle(&app).await;
    let p = json_ok(
        app.get(&format!("/v1/payments/{pid}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["amount_refunded"]["amount"], 10_000);
    let b = balance(&app, &d.client).await;
    assert_eq!(b["spending"][0]["in_escrow"]["amount"], 0);
    assert_eq!(platform(&app, "refunds_in_flight").await, 0);
    assert_eq!(
        balance(&app, &d.creative).await["earnings"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    crate::payment_terms::wait_for_notification(&app, &d.client, "refund.succeeded").await;
    // The order is settled: no more refunds.
    let res = app
        .post(
            &format!("/v1/payments/{pid}/refunds"),
            Some(&d.creative.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "order_closed"
    );
    ledger_holds(&app).await;
}

async fn set_destination(app: &TestApp, user: &TestUser) {
    let res = app
        .request(Method::PUT, "/v1/me/payout-destination", Some(&user.token))
        .json(&json!({"iban": "DE89 3704 0044 0532 0130 00", "account_holder": "Ada Lovelace"}))
        .send()
        .await
        .unwrap();
    let dest = json_ok(res, StatusCode::OK).await;
    assert_eq!(dest["iban_last4"], "3000");
    assert!(
        !dest.to_string().contains("DE89"),
        "the IBAN is never shown again"
    );
}

async fn payout(app: &TestApp, user: &TestUser, key: &str, amount: i64) -> reqwest::Response {
    app.request(Method::POST, "/v1/payouts", Some(&user.token))
        .header("Idempotency-Key", key)
        .json(&json!({"amount": {"amount": amount, "currency": "EUR"}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn payouts_take_available_money_and_twenty_racing_ones_never_overdraw_it() {
    let app = TestApp::spawn().await;
    let d = deal(&app, "in_progress", 10_000).await;
    pay_with(&app, &d, "pm_card_visa").await;
    finish(&app, &d).await;
    let res = payout(&app, &d.creative, "no-destination", 100).await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "payout_destination_required"
    );
    let res = app
        .request(
            Method::PUT,
            "/v1/me/payout-destination",
            Some(&d.creative.token),
        )
        .json(&json!({"iban": "DE89 3704 0044 0532 0130 01", "account_holder": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "invalid_iban"
    );
    set_destination(&app, &d.creative).await;

    // 9 000 available; twenty payouts of 1 000 race for it.
    let calls = (0..20).map(|i| {
        let (app, user) = (&app, &d.creative);
        async move {
            payout(app, user, &format!("race-{i}"), 1_000)
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let made = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!((made, refused), (9, 11), "{statuses:?}");
    settle(&app).await;
    let b = balance(&app, &d.creative).await;
    assert_eq!(b["earnings"][0]["available"]["amount"], 0);
    assert_eq!(b["earnings"][0]["paid_out_this_month"]["amount"], 9_000);
    let list = json_ok(
        app.get("/v1/payouts", &d.creative.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["status"] == "succeeded"));
    let res = payout(&app, &d.creative, "one-more", 1).await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "insufficient_balance"
    );
    ledger_holds(&app).await;
}

#[tokio::test]
async fn upfront_terms_keep_the_creative_from_starting_until_escrow_holds_them() {
    let app = TestApp::spawn().await;
    let d = deal(&app, "new", 15_000).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let terms = json!({"amount": {"amount": 15_000, "currency": "EUR"}, "method": "card", "due_at": due, "schedule": "upfront"});
    let res = app
        .request(
            Method::PUT,
            &format!("/v1/orders/{}/payment-terms", d.order),
            Some(&d.client.token),
        )
        .json(&terms)
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/orders/{}/payment-terms/accept", d.order),
            Some(&d.creative.token),
        )
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
    let order = app.order(&d.creative, &d.order).await;
    assert_eq!(order["allowed_transitions"], json!(["declined"]));
    let res = app
        .transition(&d.creative, &d.order, "in_progress", None)
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "payment_required"
    );
    pay_with(&app, &d, "pm_card_visa").await;
    json_ok(
        app.transition(&d.creative, &d.order, "in_progress", None)
            .await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn a_dispute_settled_with_a_partial_refund_splits_the_escrow() {
    let app = TestApp::spawn().await;
    let admin = app.register_admin("support").await;
    let d = deal(&app, "in_progress", 10_000).await;
    pay_with(&app, &d, "pm_card_visa").await;
    json_ok(
        app.transition(
            &d.client,
            &d.order,
            "disputed",
            Some("Half of it is missing"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let body = json!({"outcome": "completed", "note": "Half delivered.", "client_refund": {"amount": 4_000, "currency": "EUR"}});
    let res = app
        .post(
            &format!("/v1/admin/orders/{}/dispute-resolution", d.order),
            Some(&admin.token),
            &body,
        )
        .await;
    assert_eq!(json_ok(res, StatusCode::OK).await["status"], "completed");
    settle(&app).await;
    assert_eq!(
        balance(&app, &d.creative).await["earnings"][0]["available"]["amount"],
        5_400,
        "6 000 less 10 %"
    );
    assert_eq!(platform(&app, "platform_fees").await, 600);
    let payments = json_ok(
        app.get(
            &format!("/v1/payments?order_id={}", d.order),
            &d.client.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(payments["data"][0]["amount_refunded"]["amount"], 4_000);
    ledger_holds(&app).await;
}

#[tokio::test]
async fn money_that_arrives_after_the_order_is_cancelled_goes_back_and_an_invoice_in_payment_stays_open(
) {
    let app =
        TestApp::spawn_with(|s| s.payments.sandbox_settle_after = Duration::from_millis(1)).await;
    let admin = app.register_admin("support").await;
    let d = deal(&app, "in_progress", 10_000).await;
    let p = pay_with(&app, &d, "pm_card_processing").await;
    assert_eq!(p["status"], "pending");
    // The invoice cannot be closed under a payment in progress.
    let void = act(&app, &d.creative, &d.invoice, "void", None).await;
    assert_eq!(
        problem(void, StatusCode::CONFLICT).await["code"],
        "payment_in_progress"
    );

    json_ok(
        app.transition(&admin, &d.order, "cancelled", Some("Client left"))
            .await,
        StatusCode::OK,
    )
    .await;
    settle(&app).await;
    let id = p["id"].as_str().unwrap();
    let p = json_ok(
        app.get(&format!("/v1/payments/{id}"), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(p["status"], "succeeded");
    assert_eq!(p["amount_refunded"]["amount"], 10_000, "refunded in full");
    let inv = json_ok(
        app.get(&format!("/v1/invoices/{}", d.invoice), &d.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(inv["amount_paid"], 0, "the invoice took nothing");
    assert_eq!(
        balance(&app, &d.client).await["spending"][0]["in_escrow"]["amount"],
        0
    );
    let again = app
        .post(
            &format!("/v1/payments/{id}/refunds"),
            Some(&admin.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "order_closed"
    );
    ledger_holds(&app).await;
}
