use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};

async fn create_service(app: &TestApp, creative: &TestUser, title: &str) -> Value {
    let res = app
        .post(
            "/v1/services",
            Some(&creative.token),
            &json!({"title": title, "description": "Three concepts.", "price": {"amount": 15000, "currency": "EUR"},
                    "delivery_days": 7, "revisions_included": 2}),
        )
        .await;
    json_ok(res, StatusCode::CREATED).await
}

#[tokio::test]
async fn a_creative_offers_edits_and_archives_a_service() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let service = create_service(&app, &ada, "Logo design").await;
    assert_eq!(service["creative_id"], ada.id.to_string());
    assert_eq!(
        service["price"],
        json!({"amount": 15000, "currency": "EUR"})
    );
    let id = service["id"].as_str().unwrap();

    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/services/{id}"),
            Some(&ada.token),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"price": {"amount": 18000, "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    let updated = json_ok(res, StatusCode::OK).await;
    assert_eq!(updated["price"]["amount"], 18000);
    assert_eq!(updated["version"], 2);

    let res = app
        .request(
            Method::PATCH,
            &format!("/v1/services/{id}"),
            Some(&ada.token),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"title": "Stale"}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::PRECONDITION_FAILED).await;

    let res = app
        .request(
            Method::POST,
            &format!("/v1/services/{id}/archive"),
            Some(&ada.token),
        )
        .send()
        .await
        .unwrap();
    let archived_now = json_ok(res, StatusCode::OK).await;
    assert!(archived_now["archived_at"].is_string());
    let archived = json_ok(
        app.get(&format!("/v1/services/{id}"), &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(archived["archived_at"].is_string());
    let list = json_ok(app.get("/v1/services", &ada.token).await, StatusCode::OK).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn only_the_creative_changes_a_service() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let id = create_service(&app, &ada, "Logo design").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .patch(
            &format!("/v1/services/{id}"),
            &eve.token,
            &json!({"title": "Mine now"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/services/{id}/archive"),
            Some(&eve.token),
        )
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::FORBIDDEN).await;
    // Neither refused attempt changed anything.
    let after = json_ok(
        app.get(&format!("/v1/services/{id}"), &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(after["title"], "Logo design");
    assert_eq!(after["version"], 1);
    assert!(after["archived_at"].is_null());
}

#[tokio::test]
async fn bad_money_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for (price, field) in [
        (json!({"amount": -5, "currency": "EUR"}), "price.amount"),
        (json!({"amount": 0, "currency": "EUR"}), "price.amount"),
        (json!({"amount": 100, "currency": "XYZ"}), "price.currency"),
        (
            json!({"amount": 9_000_000_000_000_000_000i64, "currency": "EUR"}),
            "price.amount",
        ),
        (json!({"amount": 150.5, "currency": "EUR"}), "price.amount"),
    ] {
        let res = app
            .post(
                "/v1/services",
                Some(&ada.token),
                &json!({"title": "x", "description": "", "price": price, "delivery_days": 3, "revisions_included": 0}),
            )
            .await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], field, "{price}");
    }
}

#[tokio::test]
async fn services_are_listed_by_creative_and_text_in_pages() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for i in 0..5 {
        create_service(&app, &ada, &format!("Logo design {i}")).await;
    }
    create_service(&app, &bob, "Podcast editing").await;

    let page = json_ok(
        app.get(
            &format!("/v1/services?creative_id={}&limit=3", ada.id),
            &ada.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    assert_eq!(page["data"][0]["title"], "Logo design 4");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = json_ok(
        app.get(
            &format!(
                "/v1/services?creative_id={}&limit=3&cursor={cursor}",
                ada.id
            ),
            &ada.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 2);
    assert!(rest["next_cursor"].is_null());

    let found = json_ok(
        app.get("/v1/services?q=PODCAST", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    let none = json_ok(
        app.get("/v1/services?q=%25", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        none["data"].as_array().unwrap().len(),
        0,
        "% is matched literally"
    );
}
