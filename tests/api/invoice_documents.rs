//! What invoices print and list, and the billing details they carry.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp};
use crate::invoices::{act, billing_profile, draft, lines};

#[tokio::test]
async fn the_pdf_and_the_page_show_the_same_number_lines_and_totals() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    billing_profile(&app, &creative, "Zoë Illustration GmbH").await;
    let body = json!({"line_items": [{"description": "Cover artwork, final", "quantity": 3, "unit_amount": 1250}],
        "tax_rate_bps": 1900, "memo": "Danke schön"});
    let inv = json_ok(
        draft(&app, &creative, &order, body).await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap();
    let sent = json_ok(act(&app, &creative, id, "send", None).await, StatusCode::OK).await;
    let number = sent["number"].as_str().unwrap().to_string();

    let res = app
        .get(&format!("/v1/invoices/{id}/pdf"), &client.token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    let page = app
        .get(&format!("/v1/invoices/{id}/html"), &client.token)
        .await;
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    // 3 × 12.50 = 37.50; 19 % of it = 7.125 → 7.12 (half to even); total 44.62.
    for needle in [
        number.as_str(),
        "Zoë Illustration GmbH",
        "Cover artwork, final",
        "37.50 EUR",
        "7.12 EUR",
        "44.62 EUR",
        "Awaiting payment",
        "Danke schön",
    ] {
        assert!(text.contains(needle), "the PDF lacks {needle}:\n{text}");
        assert!(html.contains(needle), "the page lacks {needle}");
    }
}

#[tokio::test]
async fn a_profile_changed_after_sending_never_changes_the_issued_invoice() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    problem(
        app.get("/v1/me/billing-profile", &creative.token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let inv = json_ok(
        draft(&app, &creative, &order, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap();
    let missing = problem(
        act(&app, &creative, id, "send", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(missing["errors"][0]["field"], "billing_profile");
    assert!(missing["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("PUT /v1/me/billing-profile"));

    billing_profile(&app, &creative, "Old Name Ltd").await;
    billing_profile(&app, &client, "Client Corp").await;
    let sent = json_ok(act(&app, &creative, id, "send", None).await, StatusCode::OK).await;
    assert_eq!(sent["recipient_billing"]["legal_name"], "Client Corp");
    billing_profile(&app, &creative, "New Name Ltd").await;
    let now = json_ok(
        app.get(&format!("/v1/invoices/{id}"), &client.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["issuer_billing"]["legal_name"], "Old Name Ltd");
    let html = app
        .get(&format!("/v1/invoices/{id}/html"), &client.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Old Name Ltd") && !html.contains("New Name Ltd"));

    let profile = app.get("/v1/me/billing-profile", &creative.token).await;
    assert_eq!(profile.headers()["etag"], "\"2\"");
    let stale = app
        .request(Method::PUT, "/v1/me/billing-profile", Some(&creative.token))
        .header("If-Match", "\"1\"")
        .json(&json!({"legal_name": "X", "address_lines": ["Y"], "country": "GB"}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let bad = app
        .request(Method::PUT, "/v1/me/billing-profile", Some(&creative.token))
        .json(&json!({"legal_name": " ", "address_lines": [], "country": "XX"}))
        .send()
        .await
        .unwrap();
    let bad = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["legal_name", "country", "address_lines"]);
}

#[tokio::test]
async fn lists_filter_by_status_order_and_overdue_in_keyset_pages() {
    let app = TestApp::spawn().await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    billing_profile(&app, &creative, "Studio").await;
    let first = app.order_in("in_progress", &client, &creative).await;
    let second = app.order_in("in_progress", &client, &creative).await;
    let mut sent = Vec::new();
    for order in [&first, &first, &second] {
        let inv = json_ok(
            draft(
                &app,
                &creative,
                order,
                json!({"line_items": lines(&[(1, 100)])}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = inv["id"].as_str().unwrap().to_string();
        json_ok(
            act(&app, &creative, &id, "send", None).await,
            StatusCode::OK,
        )
        .await;
        sent.push(id);
    }
    let draft_only = json_ok(
        draft(&app, &creative, &second, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    app.sql(&format!(
        "UPDATE invoices SET due_at = now() - interval '1 day' WHERE id = '{}'",
        sent[0]
    ))
    .await;
    json_ok(
        act(&app, &creative, &sent[2], "void", None).await,
        StatusCode::OK,
    )
    .await;

    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let get = |path: String, token: String| {
        let app = &app;
        async move { json_ok(app.get(&path, &token).await, StatusCode::OK).await }
    };
    let all = get("/v1/invoices".into(), creative.token.clone()).await;
    assert_eq!(
        ids(&all),
        [
            draft_only["id"].as_str().unwrap(),
            &sent[2],
            &sent[1],
            &sent[0]
        ]
    );
    let theirs = get("/v1/invoices".into(), client.token.clone()).await;
    assert_eq!(
        ids(&theirs),
        [&sent[2], &sent[1], &sent[0]].map(String::from),
        "the client never sees drafts"
    );
    let overdue = get("/v1/invoices?overdue=true".into(), client.token.clone()).await;
    assert_eq!(ids(&overdue), [sent[0].clone()]);
    assert_eq!(overdue["data"][0]["overdue"], true);
    let open = get(
        format!("/v1/invoices?status=open&order_id={first}"),
        client.token.clone(),
    )
    .await;
    assert_eq!(ids(&open), [sent[1].clone(), sent[0].clone()]);
    let void = get(
        "/v1/invoices?status=void,paid".into(),
        creative.token.clone(),
    )
    .await;
    assert_eq!(ids(&void), [sent[2].clone()]);

    let page1 = get("/v1/invoices?limit=2".into(), client.token.clone()).await;
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let page2 = get(
        format!("/v1/invoices?limit=2&cursor={cursor}"),
        client.token.clone(),
    )
    .await;
    assert_eq!([ids(&page1), ids(&page2)].concat(), ids(&theirs));
    assert_eq!(page2["next_cursor"], Value::Null);
    let bad = app.get("/v1/invoices?status=late", &client.token).await;
    problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn drafts_are_rate_limited_per_user_at_the_default() {
    let defaults = createspace::config::Settings::from_lookup(&|_| None)
        .unwrap()
        .rate_limits;
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.invoices_per_user_per_hour = defaults.invoices_per_user_per_hour;
    })
    .await;
    let (client, creative) = (app.register("client").await, app.register("creative").await);
    let order = app.order_in("in_progress", &client, &creative).await;
    for _ in 0..defaults.invoices_per_user_per_hour {
        assert_eq!(
            draft(&app, &creative, &order, json!({})).await.status(),
            StatusCode::CREATED
        );
    }
    let res = draft(&app, &creative, &order, json!({})).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, StatusCode::TOO_MANY_REQUESTS).await;
}
