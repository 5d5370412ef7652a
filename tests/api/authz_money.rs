//! The authorization matrix's arrangements for payments, balances and payouts.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::authz::{call, Call, Parties};
use crate::helpers::{json_ok, TestApp, TestUser};
use crate::payments::{pay, sent_invoice, settle};

pub const OPERATIONS: [&str; 11] = [
    "payInvoice",
    "confirmPayment",
    "getPayment",
    "listPayments",
    "refundPayment",
    "getBalance",
    "getPayoutDestination",
    "putPayoutDestination",
    "createPayout",
    "listPayouts",
    "stripeWebhook",
];

fn keyed(mut c: Call) -> Call {
    c.headers
        .push(("Idempotency-Key", uuid::Uuid::new_v4().to_string()));
    c
}

async fn destination(app: &TestApp, user: &TestUser) {
    let res = app
        .request(Method::PUT, "/v1/me/payout-destination", Some(&user.token))
        .json(&json!({"iban": "DE89370400440532013000", "account_holder": "Someone"}))
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
}

/// A payment by the client of an invoice the creative sent, paid with `method`.
async fn payment(app: &TestApp, p: &Parties<'_>, method: &str) -> (String, String) {
    let order = app.order_in("in_progress", p.client, p.creative).await;
    let invoice = sent_invoice(app, p.creative, &order, 10_000).await;
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"payment_method": method});
    let paid = json_ok(
        pay(app, p.client, &invoice, &key, body).await,
        StatusCode::CREATED,
    )
    .await;
    (order, paid["id"].as_str().unwrap().to_string())
}

pub async fn arrange(app: &TestApp, p: &Parties<'_>, op: &str) -> Call {
    match op {
        "payInvoice" => {
            let order = app.order_in("in_progress", p.client, p.creative).await;
            let invoice = sent_invoice(app, p.creative, &order, 10_000).await;
            let mut c = keyed(call(
                Method::POST,
                format!("/v1/invoices/{invoice}/payments"),
                Some(json!({"payment_method": "pm_card_visa"})),
            ));
            c.probe = Some(format!("/v1/invoices/{invoice}"));
            c
        }
        "confirmPayment" => {
            let (_, id) = payment(app, p, "pm_card_authenticationRequired").await;
            call(Method::POST, format!("/v1/payments/{id}/confirm"), None)
        }
        "getPayment" => {
            let (_, id) = payment(app, p, "pm_card_visa").await;
            call(Method::GET, format!("/v1/payments/{id}"), None)
        }
        "refundPayment" => {
            let (_, id) = payment(app, p, "pm_card_visa").await;
            let mut c = call(
                Method::POST,
                format!("/v1/payments/{id}/refunds"),
                Some(json!({"amount": {"amount": 100, "currency": "EUR"}})),
            );
            c.owner_is_creative = true;
            c.probe = Some(format!("/v1/payments/{id}"));
            c
        }
        "createPayout" => {
            let (order, _) = payment(app, p, "pm_card_visa").await;
            json_ok(
                app.transition(p.creative, &order, "delivered", None).await,
                StatusCode::OK,
            )
            .await;
            json_ok(
                app.transition(p.client, &order, "completed", None).await,
                StatusCode::OK,
            )
            .await;
            settle(app).await;
            destination(app, p.creative).await;
            let mut c = keyed(call(
                Method::POST,
                "/v1/payouts".into(),
                Some(json!({"amount": {"amount": 500, "currency": "EUR"}})),
            ));
            c.owner_is_creative = true;
            c
        }
        "getPayoutDestination" => {
            for user in [p.client, p.creative, p.outsider, p.admin] {
                destination(app, user).await;
            }
            call(Method::GET, "/v1/me/payout-destination".into(), None)
        }
        "putPayoutDestination" => call(
            Method::PUT,
            "/v1/me/payout-destination".into(),
            Some(json!({"iban": "GB82WEST12345698765432", "account_holder": "Someone"})),
        ),
        "listPayments" => call(Method::GET, "/v1/payments".into(), None),
        "getBalance" => call(Method::GET, "/v1/balance".into(), None),
        "listPayouts" => call(Method::GET, "/v1/payouts".into(), None),
        _ => {
            let body =
                json!({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {}}});
            let mut c = call(Method::POST, "/v1/webhooks/stripe".into(), Some(body));
            c.headers.push(("Stripe-Signature", "t=1,v1=00".into()));
            c
        }
    }
}
