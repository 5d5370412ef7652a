//! Regressions from the contract fuzz: each test is one place where the server and its OpenAPI
//! document disagreed, and proves they now say the same thing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use createspace::http::docs;

use crate::helpers::{json_ok, problem, TestApp, TestUser};

async fn patch_me_with_if_match(app: &TestApp, user: &TestUser, if_match: &str) -> StatusCode {
    app.request(Method::PATCH, "/v1/me", Some(&user.token))
        .header("If-Match", if_match)
        .json(&json!({"bio": "changed"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn if_match_values_outside_the_documented_grammar_are_400_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for bad in [
        "1",
        "\"3",
        "W/3",
        "null",
        "\"1\", \"2\"",
        "\"99999999999999999999\"",
    ] {
        assert_eq!(
            patch_me_with_if_match(&app, &ada, bad).await,
            StatusCode::BAD_REQUEST,
            "If-Match: {bad}"
        );
    }
    let me = json_ok(app.get("/v1/me", &ada.token).await, StatusCode::OK).await;
    assert_eq!(me["version"], 1);
    assert!(me["bio"].is_null());
    assert_eq!(
        patch_me_with_if_match(&app, &ada, "W/\"1\"").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_empty_if_match_matches_no_version() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    assert_eq!(
        patch_me_with_if_match(&app, &ada, "").await,
        StatusCode::PRECONDITION_FAILED
    );
}

#[tokio::test]
async fn the_status_filter_is_a_comma_separated_list_of_statuses() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for ok in ["/v1/orders", "/v1/orders?status=new,in_progress"] {
        assert_eq!(
            app.get(ok, &ada.token).await.status(),
            StatusCode::OK,
            "{ok}"
        );
    }
    for bad in [
        "/v1/orders?status=",
        "/v1/orders?status=new,",
        "/v1/orders?status=new,%20in_progress",
        "/v1/orders?status=new,new,new,new,new,new,new,new",
    ] {
        let body = problem(
            app.get(bad, &ada.token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "status", "{bad}");
    }
}

#[tokio::test]
async fn a_password_reset_for_a_malformed_email_is_422() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/v1/auth/password-reset", None, &json!({"email": "0"}))
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "email");
}

#[tokio::test]
async fn text_is_measured_as_sent_and_control_characters_are_refused_even_at_the_edges() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for (body, field) in [
        (json!({"display_name": "Ada\t"}), "display_name"),
        (
            json!({"display_name": format!(" {} ", "a".repeat(80))}),
            "display_name",
        ),
        (json!({"display_name": "\u{3000}"}), "display_name"),
        (json!({"bio": "fine\u{7}"}), "bio"),
    ] {
        let body = problem(
            app.patch("/v1/me", &ada.token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field);
    }
    let res = app
        .patch(
            "/v1/me",
            &ada.token,
            &json!({"bio": "two\nlines\tand a tab"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn create_service(
    app: &TestApp,
    user: &TestUser,
    amount: &Value,
    currency: &str,
) -> reqwest::Response {
    app.post(
        "/v1/services",
        Some(&user.token),
        &service_body(amount, currency),
    )
    .await
}

fn service_body(amount: &Value, currency: &str) -> Value {
    json!({"title": "Logo", "description": "", "price": {"amount": amount, "currency": currency},
           "delivery_days": 7.0, "revisions_included": 2})
}

#[tokio::test]
async fn prices_are_capped_at_the_documented_maximum_in_every_currency() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let doc = docs::openapi();
    let max = doc["components"]["schemas"]["MoneyDto"]["properties"]["amount"]["maximum"]
        .as_i64()
        .unwrap();
    for currency in ["EUR", "JPY", "BHD"] {
        let res = create_service(&app, &ada, &json!(max), currency).await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{currency} at the maximum"
        );
        let res = create_service(&app, &ada, &json!(max + 1), currency).await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "price.amount");
    }
}

#[tokio::test]
async fn integral_floats_count_as_integers_and_fractions_do_not() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let created = json_ok(
        create_service(&app, &ada, &json!(1500.0), "EUR").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["price"]["amount"], 1500);
    assert_eq!(created["delivery_days"], 7);
    let res = create_service(&app, &ada, &json!(1500.5), "EUR").await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "price.amount");
}

#[tokio::test]
async fn archiving_is_a_post_and_the_service_stays_readable() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let service = json_ok(
        create_service(&app, &ada, &json!(100), "EUR").await,
        StatusCode::CREATED,
    )
    .await;
    let id = service["id"].as_str().unwrap();
    let res = app
        .request(
            Method::DELETE,
            &format!("/v1/services/{id}"),
            Some(&ada.token),
        )
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::METHOD_NOT_ALLOWED).await;
    let res = app
        .request(
            Method::POST,
            &format!("/v1/services/{id}/archive"),
            Some(&ada.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    let archived = json_ok(res, StatusCode::OK).await;
    assert!(archived["archived_at"].is_string());
    let res = app
        .request(
            Method::POST,
            &format!("/v1/services/{id}/archive"),
            Some(&ada.token),
        )
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn cursors_longer_or_other_than_documented_are_400() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let long = "A".repeat(513);
    for bad in [
        format!("/v1/services?cursor={long}"),
        "/v1/orders?cursor=%C3%B6".into(),
    ] {
        let body = problem(app.get(&bad, &ada.token).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["code"], "invalid_cursor");
    }
}

#[tokio::test]
async fn a_decline_without_a_reason_is_422_whatever_the_if_match() {
    let app = TestApp::spawn().await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let order = app.place_order(&client, &creative).await;
    let id = order["id"].as_str().unwrap();
    let res = app
        .request(
            Method::POST,
            &format!("/v1/orders/{id}/transitions"),
            Some(&creative.token),
        )
        .header("If-Match", "\"7\"")
        .json(&json!({"to": "declined", "note": null}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "note");
}

#[tokio::test]
async fn avatar_urls_and_time_zones_are_taken_exactly_as_their_patterns_say() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for (body, field) in [
        (
            json!({"avatar_url": " https://cdn.example.com/a.png"}),
            "avatar_url",
        ),
        (json!({"avatar_url": "https://"}), "avatar_url"),
        (json!({"time_zone": " UTC"}), "time_zone"),
    ] {
        let body = problem(
            app.patch("/v1/me", &ada.token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field);
    }
}

#[test]
fn the_document_states_what_the_fuzz_found_missing() {
    let doc = docs::openapi();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas.iter().filter(|(n, _)| n.starts_with("Page_")) {
        let item = &name["Page_".len()..];
        assert_eq!(
            schema["properties"]["data"]["items"]["$ref"],
            format!("#/components/schemas/{item}"),
            "{name}"
        );
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] == "header" {
                    assert_eq!(param["schema"]["type"], "string", "{name}: header type");
                }
            }
            if op.get("requestBody").is_some() {
                assert!(op["responses"].get("413").is_some(), "{name} has no 413");
            }
        }
    }
    let links = &doc["paths"]["/v1/orders"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["CreateOrderTransition"]["operationId"],
        "createOrderTransition"
    );
    assert!(
        links.get("GetCancellationRequest").is_none(),
        "a new order has no cancellation request to link to"
    );
}

/// Every string and array a client can send is bounded, and the bound is in the document.
#[test]
fn every_request_string_and_array_is_bounded_in_the_document() {
    let doc = docs::openapi();
    let mut unbounded = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            for param in op["parameters"].as_array().into_iter().flatten() {
                let at = format!("{name} parameter {}", param["name"]);
                check_bounded(&doc, &param["schema"], &at, &mut unbounded);
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                check_bounded(&doc, schema, &format!("{name} body"), &mut unbounded);
            }
        }
    }
    assert!(
        unbounded.is_empty(),
        "unbounded input:\n{}",
        unbounded.join("\n")
    );
}

fn check_bounded(doc: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str() {
        let pointer = target.trim_start_matches('#');
        return check_bounded(doc, doc.pointer(pointer).unwrap(), at, out);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (i, s) in schema[key].as_array().into_iter().flatten().enumerate() {
            check_bounded(doc, s, &format!("{at}/{key}{i}"), out);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    // A uuid or a timestamp that is too long fails to parse: bounded by its format.
    let bounded = matches!(schema["format"].as_str(), Some("uuid" | "date-time"))
        || schema["maxLength"].is_u64()
        || schema["enum"].is_array();
    if types.contains(&"string") && !bounded {
        out.push(format!("{at}: string without maxLength"));
    }
    if types.contains(&"array") {
        if !schema["maxItems"].is_u64() {
            out.push(format!("{at}: array without maxItems"));
        }
        check_bounded(doc, &schema["items"], &format!("{at}[]"), out);
    }
    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
        check_bounded(doc, prop, &format!("{at}.{name}"), out);
    }
}

#[tokio::test]
async fn a_precondition_header_sent_twice_is_400() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .request(Method::PATCH, "/v1/me", Some(&ada.token))
        .header("If-Match", "*")
        .header("If-Match", "\"7\"")
        .json(&json!({"bio": "changed"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["code"], "invalid_if_match");
    let res = app
        .request(Method::POST, "/v1/orders", Some(&ada.token))
        .header("Idempotency-Key", "a")
        .header("Idempotency-Key", "b")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn ids_are_taken_in_their_hyphenated_form_only() {
    let app = TestApp::spawn().await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let order = app.place_order(&client, &creative).await;
    let id: uuid::Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let simple = id.simple().to_string();
    let braced = id.braced().to_string();
    for other_form in [&simple, &braced] {
        let res = app
            .get(&format!("/v1/orders/{other_form}"), &client.token)
            .await;
        problem(res, StatusCode::BAD_REQUEST).await;
    }
    assert_eq!(
        app.get(&format!("/v1/orders/{id}"), &client.token)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .post(
            "/v1/orders",
            Some(&client.token),
            &json!({"creative_id": creative.id.simple().to_string(), "title": "Logo",
                    "requirements": "A fox.", "price": {"amount": 100, "currency": "EUR"},
                    "due_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "creative_id");
}

#[tokio::test]
async fn a_deadline_cannot_be_cleared_and_the_document_says_so() {
    let doc = docs::openapi();
    let due_at = &doc["components"]["schemas"]["UpdateOrderRequest"]["properties"]["due_at"];
    assert_eq!(due_at["type"], "string", "due_at must not be nullable");
    let app = TestApp::spawn().await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let order = app.place_order(&client, &creative).await;
    let res = app
        .patch(
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            &client.token,
            &json!({"due_at": null}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "due_at");
}

#[test]
fn every_event_is_documented_with_its_payload() {
    let doc = docs::openapi();
    let event = &doc["components"]["schemas"]["Event"];
    let names = event["properties"]["type"]["enum"].as_array().unwrap();
    assert_eq!(names.len(), createspace::domain::events::Event::NAMES.len());
    for variant in event["oneOf"].as_array().unwrap() {
        let target = variant["properties"]["data"]["$ref"].as_str().unwrap();
        assert!(
            doc.pointer(target.trim_start_matches('#')).is_some(),
            "{target} is not in the document"
        );
    }
}
