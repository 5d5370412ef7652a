//! Invoices over HTTP: their life, their arithmetic, their numbers, who sees them.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

pub(crate) async fn billing_profile(app: &TestApp, user: &TestUser, name: &str) {
    let body = json!({"legal_name": name, "address_lines": ["1 Main Street", "London"], "country": "GB",
        "tax_id": "GB123456789"});
    let res = app
        .request(Method::PUT, "/v1/me/billing-profile", Some(&user.token))
        .json(&body)
        .send()
        .await
        .unwrap();
    json_ok(res, StatusCode::OK).await;
}

pub(crate) fn lines(list: &[(i64, i64)]) -> Value {
    json!(list
        .iter()
        .map(|(q, u)| json!({"description": "Illustration", "quantity": q, "unit_amount": u}))
        .collect::<Vec<_>>())
}

pub(crate) async fn draft(
    app: &TestApp,
    creative: &TestUser,
    order: &str,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({"order_id": order, "line_items": lines(&[(1, 10000)])});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v1/invoices", Some(&creative.token), &body).await
}

pub(crate) async fn act(
    app: &TestApp,
    user: &TestUser,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.request(
        Method::POST,
        &format!("/v1/invoices/{id}/{action}"),
        Some(&user.token),
    );
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

struct Parties {
    client: TestUser,
    creative: TestUser,
    order: String,
}

async fn parties(app: &TestApp) -> Parties {
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    billing_profile(app, &creative, "Creative Studio Ltd").await;
    Parties {
        client,
        creative,
        order,
    }
}

#[tokio::test]
async fn an_invoice_goes_through_every_allowed_move_and_refuses_the_others() {
    let app = TestApp::spawn().await;
    let p = parties(&app).await;
    let inv = json_ok(
        draft(&app, &p.creative, &p.order, json!({"tax_rate_bps": 2000})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap();
    assert_eq!(
        (inv["status"].as_str(), &inv["number"]),
        (Some("draft"), &Value::Null)
    );
    assert_eq!(
        (
            inv["subtotal"].as_i64(),
            inv["tax_amount"].as_i64(),
            inv["total"].as_i64()
        ),
        (Some(10000), Some(2000), Some(12000))
    );
    // A draft is the creative's own until sent.
    problem(
        app.get(&format!("/v1/invoices/{id}"), &p.client.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        act(&app, &p.creative, id, "void", None).await,
        StatusCode::CONFLICT,
    )
    .await;

    let edited = app
        .patch(
            &format!("/v1/invoices/{id}"),
            &p.creative.token,
            &json!({"line_items": lines(&[(2, 4000)])}),
        )
        .await;
    let edited = json_ok(edited, StatusCode::OK).await;
    assert_eq!(
        (edited["total"].as_i64(), edited["version"].as_i64()),
        (Some(9600), Some(2))
    );

    let sent = json_ok(
        act(&app, &p.creative, id, "send", None).await,
        StatusCode::OK,
    )
    .await;
    let year = chrono::Utc::now().format("%Y");
    assert_eq!(sent["number"], format!("INV-{year}-0001"));
    assert_eq!(sent["status"], "open");
    assert_eq!(sent["issuer_billing"]["legal_name"], "Creative Studio Ltd");
    let seen = json_ok(
        app.get(&format!("/v1/invoices/{id}"), &p.client.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["allowed_actions"], json!([]), "only the issuer acts");

    // Frozen: no edit, no delete, no second send.
    let frozen = app
        .patch(
            &format!("/v1/invoices/{id}"),
            &p.creative.token,
            &json!({"memo": "late"}),
        )
        .await;
    assert_eq!(
        problem(frozen, StatusCode::CONFLICT).await["code"],
        "invoice_frozen"
    );
    let delete = app
        .request(
            Method::DELETE,
            &format!("/v1/invoices/{id}"),
            Some(&p.creative.token),
        )
        .send()
        .await
        .unwrap();
    problem(delete, StatusCode::CONFLICT).await;
    problem(
        act(&app, &p.creative, id, "send", None).await,
        StatusCode::CONFLICT,
    )
    .await;

    let card = act(
        &app,
        &p.creative,
        id,
        "mark-paid",
        Some(json!({"method": "card", "reference": "x"})),
    )
    .await;
    // Card payments go through the platform: `card` is no method to record by hand.
    assert_eq!(
        problem(card, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "method"
    );
    let written_off = json_ok(
        act(&app, &p.creative, id, "mark-uncollectible", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(written_off["status"], "uncollectible");
    problem(
        act(&app, &p.creative, id, "void", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    let paid = act(
        &app,
        &p.creative,
        id,
        "mark-paid",
        Some(json!({"method": "bank_transfer", "reference": "SEPA 42"})),
    )
    .await;
    let paid = json_ok(paid, StatusCode::OK).await;
    assert_eq!(
        (
            paid["status"].as_str(),
            paid["amount_due"].as_i64(),
            paid["amount_paid"].as_i64()
        ),
        (Some("paid"), Some(0), Some(9600))
    );
    assert_eq!(paid["paid_out_of_band"], true);
    for action in ["void", "mark-uncollectible", "send"] {
        problem(
            act(&app, &p.creative, id, action, None).await,
            StatusCode::CONFLICT,
        )
        .await;
    }

    // Another: sent, then voided; a third: deleted while a draft.
    let small = json!({"line_items": lines(&[(1, 1000)])});
    let second = json_ok(
        draft(&app, &p.creative, &p.order, small.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let second = second["id"].as_str().unwrap();
    json_ok(
        act(&app, &p.creative, second, "send", None).await,
        StatusCode::OK,
    )
    .await;
    let voided = json_ok(
        act(&app, &p.creative, second, "void", None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (voided["status"].as_str(), voided["amount_due"].as_i64()),
        (Some("void"), Some(0))
    );
    let third = json_ok(
        draft(&app, &p.creative, &p.order, small).await,
        StatusCode::CREATED,
    )
    .await;
    let third = third["id"].as_str().unwrap();
    let gone = app
        .request(
            Method::DELETE,
            &format!("/v1/invoices/{third}"),
            Some(&p.creative.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    problem(
        app.get(&format!("/v1/invoices/{third}"), &p.creative.token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    wait_for(&app, &p.client, "invoice.sent").await;
    wait_for(&app, &p.client, "invoice.voided").await;
}

async fn wait_for(app: &TestApp, user: &TestUser, event: &str) {
    crate::payment_terms::wait_for_notification(app, user, event).await;
}

#[tokio::test]
async fn only_the_issuer_acts_and_outsiders_see_nothing() {
    let app = TestApp::spawn().await;
    let p = parties(&app).await;
    let (outsider, admin) = (
        app.register("outsider").await,
        app.register_admin("admin").await,
    );
    let inv = json_ok(
        draft(&app, &p.creative, &p.order, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap();
    json_ok(
        app.get(&format!("/v1/invoices/{id}"), &admin.token).await,
        StatusCode::OK,
    )
    .await;
    problem(
        act(&app, &admin, id, "send", None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    json_ok(
        act(&app, &p.creative, id, "send", None).await,
        StatusCode::OK,
    )
    .await;
    for who in [&p.client, &admin] {
        let res = problem(
            act(&app, who, id, "void", None).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        assert_eq!(res["code"], "not_the_issuer");
    }
    for path in ["", "/pdf", "/html"] {
        problem(
            app.get(&format!("/v1/invoices/{id}{path}"), &outsider.token)
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    problem(
        act(&app, &outsider, id, "void", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = app
        .get("/v1/invoices", &outsider.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"], json!([]));
    // The client cannot invoice; an outsider's order_id is an unknown one.
    let res = problem(
        draft(&app, &p.client, &p.order, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(res["errors"][0]["code"], "not_the_creative");
    let res = problem(
        draft(&app, &outsider, &p.order, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(res["errors"][0]["field"], "order_id");
}

/// Lines (quantity, unit amount), a percentage discount and a tax rate, in basis points.
type Case = (&'static [(i64, i64)], i64, i64);

/// Tax rounded half to even on the subtotal after discount, computed here independently.
fn expected(lines: &[(i64, i64)], percent_off_bps: i64, tax_bps: i64) -> (i64, i64, i64, i64) {
    let half_even = |n: i128, d: i128| {
        let (q, r) = (n / d, n % d);
        if 2 * r > d || (2 * r == d && q % 2 == 1) {
            q + 1
        } else {
            q
        }
    };
    let subtotal: i128 = lines.iter().map(|(q, u)| *q as i128 * *u as i128).sum();
    let discount = half_even(subtotal * percent_off_bps as i128, 10_000);
    let tax = half_even((subtotal - discount) * tax_bps as i128, 10_000);
    (
        subtotal as i64,
        discount as i64,
        tax as i64,
        (subtotal - discount + tax) as i64,
    )
}

#[tokio::test]
async fn totals_on_tricky_cases_equal_an_independent_computation() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let big = json!({"price": {"amount": 100_000_000_000i64, "currency": "EUR"}});
    let order = app.place_order_with(&client, &creative, big).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases: [Case; 5] = [
        (&[(1, 50)], 0, 500), // 2.5 → 2
        (&[(1, 70)], 0, 500), // 3.5 → 4
        (&[(3, 333), (1, 1)], 1250, 1900),
        (&[(7, 1999), (13, 77)], 333, 2100),
        (&[(1_000_000_000, 50)], 5, 2500), // large quantity, within bounds
    ];
    for (list, percent, tax) in cases {
        let mut extra = json!({"line_items": lines(list), "tax_rate_bps": tax});
        if percent > 0 {
            extra["discount"] = json!({"percent_off_bps": percent});
        }
        let inv = json_ok(
            draft(&app, &creative, &order, extra).await,
            StatusCode::CREATED,
        )
        .await;
        let (subtotal, discount, tax, total) = expected(list, percent, tax);
        assert_eq!(inv["subtotal"], subtotal, "{list:?}");
        assert_eq!(inv["discount_amount"], discount, "{list:?}");
        assert_eq!(inv["tax_amount"], tax, "{list:?}");
        assert_eq!(inv["total"], total, "{list:?}");
        assert_eq!(inv["amount_due"], total);
    }
    let refused = [
        (
            json!({"line_items": lines(&[(1_000_000_000, 101)])}),
            "line_items[0]",
            "too_large",
        ),
        (
            json!({"line_items": lines(&[(0, 5)])}),
            "line_items[0].quantity",
            "out_of_range",
        ),
        (
            json!({"line_items": lines(&[(-2, 5)])}),
            "line_items[0].quantity",
            "out_of_range",
        ),
        (
            json!({"line_items": lines(&vec![(1, 1); 101])}),
            "line_items",
            "line_count",
        ),
        (
            json!({"discount": {"amount_off": 10001}}),
            "discount.amount_off",
            "exceeds_subtotal",
        ),
        (
            json!({"discount": {"amount_off": 1, "percent_off_bps": 1}}),
            "discount",
            "exactly_one",
        ),
        (
            json!({"tax_rate_bps": 10001}),
            "tax_rate_bps",
            "out_of_range",
        ),
    ];
    for (extra, field, code) in refused {
        let body = problem(
            draft(&app, &creative, &order, extra).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (
                body["errors"][0]["field"].as_str(),
                body["errors"][0]["code"].as_str()
            ),
            (Some(field), Some(code)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn invoices_cannot_pass_the_agreed_amount_until_the_client_accepts_more() {
    let app = TestApp::spawn().await;
    let p = parties(&app).await; // the order's price: 15000
    let over = problem(
        draft(
            &app,
            &p.creative,
            &p.order,
            json!({"line_items": lines(&[(1, 15001)])}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(over["errors"][0]["code"], "exceeds_agreed_amount");
    // Tax does not count: 15000 before tax is fine.
    let a = json_ok(
        draft(
            &app,
            &p.creative,
            &p.order,
            json!({"line_items": lines(&[(1, 10000)]), "tax_rate_bps": 2500}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let b = json_ok(
        draft(
            &app,
            &p.creative,
            &p.order,
            json!({"line_items": lines(&[(1, 10000)])}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    json_ok(
        act(&app, &p.creative, a["id"].as_str().unwrap(), "send", None).await,
        StatusCode::OK,
    )
    .await;
    let b_id = b["id"].as_str().unwrap();
    let refused = problem(
        act(&app, &p.creative, b_id, "send", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["errors"][0]["code"], "exceeds_agreed_amount");
    // New terms proposed by the creative change nothing until the client accepts them.
    let terms = json!({"amount": {"amount": 20000, "currency": "EUR"}, "method": "bank_transfer",
        "due_at": (chrono::Utc::now() + chrono::Duration::days(9)).to_rfc3339(), "schedule": "upfront"});
    let path = format!("/v1/orders/{}/payment-terms", p.order);
    let res = app
        .request(Method::PUT, &path, Some(&p.creative.token))
        .json(&terms)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    problem(
        act(&app, &p.creative, b_id, "send", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let res = app
        .request(
            Method::POST,
            &format!("{path}/accept"),
            Some(&p.client.token),
        )
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    json_ok(
        act(&app, &p.creative, b_id, "send", None).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn fifty_concurrent_sends_number_one_to_fifty_without_gap_or_repeat() {
    let app = TestApp::spawn().await;
    let p = parties(&app).await;
    let mut ids = Vec::new();
    for _ in 0..50 {
        let inv = json_ok(
            draft(
                &app,
                &p.creative,
                &p.order,
                json!({"line_items": lines(&[(1, 100)])}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        ids.push(inv["id"].as_str().unwrap().to_string());
    }
    let sends = ids
        .iter()
        .map(|id| act(&app, &p.creative, id, "send", None));
    let mut numbers = Vec::new();
    for res in futures_util::future::join_all(sends).await {
        numbers.push(
            json_ok(res, StatusCode::OK).await["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    numbers.sort();
    let year = chrono::Utc::now().format("%Y");
    let want: Vec<String> = (1..=50).map(|n| format!("INV-{year}-{n:04}")).collect();
    assert_eq!(numbers, want);
}

#[tokio::test]
async fn a_bad_field_in_an_edit_is_422_whatever_the_version_named() {
    let app = TestApp::spawn().await;
    let p = parties(&app).await;
    let inv = json_ok(
        draft(&app, &p.creative, &p.order, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!("/v1/invoices/{}", inv["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"tax_rate_bps": -1}), "tax_rate_bps"),
        (json!({"due_at": "2000-01-01T00:00:00Z"}), "due_at"),
        (
            json!({"discount": {"percent_off_bps": 20000}}),
            "discount.percent_off_bps",
        ),
    ] {
        let res = app
            .request(Method::PATCH, &path, Some(&p.creative.token))
            .header("If-Match", "\"7\"")
            .json(&body)
            .send()
            .await
            .unwrap();
        let res = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(res["errors"][0]["field"], field);
    }
}
