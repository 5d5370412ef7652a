//! Webhooks for integrators: signed deliveries, exactly one per event across two workers, retries,
//! rotation, disabling a failing endpoint, and the address filter. Receivers listen on loopback
//! under the name `hooks.test`, which the tests' static resolver maps to 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{json_ok, problem, OtherProcess, TestApp, TestUser};

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Received {
    signature: String,
    event_id: String,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<AtomicUsize>,
}

async fn receive(req: HttpRequest, body: web::Bytes, r: web::Data<Receiver>) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    r.got.lock().unwrap().push(Received {
        signature: header("createspace-signature"),
        event_id: header("createspace-event-id"),
        body: body.to_vec(),
    });
    let failing = r
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        HttpResponse::InternalServerError().body("not today")
    } else {
        HttpResponse::Ok().body("ok")
    }
}

/// A receiver on a loopback port; its URL under `hooks.test`.
async fn receiver(fail_first: usize) -> (String, Receiver) {
    let r = Receiver::default();
    r.fail_first.store(fail_first, Ordering::SeqCst);
    let data = web::Data::new(r.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://hooks.test:{port}/hook"), r)
}

/// An app whose webhooks may reach loopback over plain HTTP (the receivers are local).
async fn app_for_receivers(adjust: impl FnOnce(&mut createspace::config::Settings)) -> TestApp {
    TestApp::spawn_with(|s| {
        s.webhooks.allow_http = true;
        s.webhooks.destinations.allowed =
            vec![createspace::config::IpNet::parse("127.0.0.0/8").unwrap()];
        adjust(s);
    })
    .await
}

async fn create_endpoint(app: &TestApp, owner: &TestUser, url: &str, events: &[&str]) -> Value {
    let res = app
        .post(
            "/v1/webhook-endpoints",
            Some(&owner.token),
            &json!({"url": url, "events": events, "description": "Order sync"}),
        )
        .await;
    json_ok(res, StatusCode::CREATED).await
}

/// The documented recipe: HMAC-SHA256 over `t`, `.`, and the raw body; any `v1` may match.
fn verifies(secret: &str, header: &str, body: &[u8]) -> bool {
    let parts: Vec<(&str, &str)> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let Some(t) = parts.iter().find(|(k, _)| *k == "t").map(|(_, v)| *v) else {
        return false;
    };
    let fresh = (chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap()).abs() <= 300;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    fresh && parts.iter().any(|(k, v)| *k == "v1" && *v == expected)
}

async fn wait_for(r: &Receiver, n: usize) -> Vec<Received> {
    for _ in 0..150 {
        let got = r.got.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the receiver got {} of {n} deliveries",
        r.got.lock().unwrap().len()
    );
}

#[tokio::test]
async fn each_event_reaches_the_receiver_once_across_two_worker_processes_signed_by_the_documented_recipe(
) {
    let app = app_for_receivers(|_| {}).await;
    // A second worker process on the same database, configured as the tests' app is.
    let mut second_worker = OtherProcess::worker(
        &app,
        &[
            ("WEBHOOK_STATIC_HOSTS", "hooks.test=127.0.0.1"),
            ("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8"),
            ("WEBHOOK_ALLOW_HTTP", "true"),
            ("NOTIFICATION_POLL_INTERVAL", "100ms"),
        ],
    );
    let (url, r) = receiver(0).await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let endpoint =
        create_endpoint(&app, &creative, &url, &["order.placed", "message.posted"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));

    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(app.place_order(&client, &creative).await["id"].clone());
    }
    for order in &orders {
        let res = app
            .message(&client, order.as_str().unwrap(), &json!({"body": "hello"}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let got = wait_for(&r, 8).await;
    assert!(second_worker.running(), "the second worker process is up");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_all = r.got.lock().unwrap().clone();
    assert_eq!(got_all.len(), 8, "each event once: {got:?}");
    let mut ids: Vec<&str> = got_all.iter().map(|g| g.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    for g in &got_all {
        assert!(verifies(&secret, &g.signature, &g.body), "{g:?}");
        assert!(!verifies("whsec_wrong", &g.signature, &g.body));
        let envelope: Value = serde_json::from_slice(&g.body).unwrap();
        assert_eq!(envelope["id"], g.event_id.as_str());
        assert!(orders.contains(&envelope["data"]["order_id"]), "{envelope}");
    }
    let path = format!(
        "/v1/webhook-endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let log = json_ok(app.get(&path, &creative.token).await, StatusCode::OK).await;
    let attempts = log["data"].as_array().unwrap();
    assert_eq!(attempts.len(), 8);
    assert!(attempts.iter().all(|a| a["status_code"] == 200
        && a["succeeded"] == true
        && a["response_excerpt"] == "ok"
        && a["latency_ms"].as_i64().unwrap() >= 0));
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt() {
    let app = app_for_receivers(|_| {}).await;
    let (url, r) = receiver(2).await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let endpoint = create_endpoint(&app, &creative, &url, &["order.placed"]).await;
    app.place_order(&client, &creative).await;

    let got = wait_for(&r, 3).await;
    assert!(got.iter().all(|g| g.event_id == got[0].event_id));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        r.got.lock().unwrap().len(),
        3,
        "no attempt after the success"
    );
    let path = format!(
        "/v1/webhook-endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let log = json_ok(app.get(&path, &creative.token).await, StatusCode::OK).await;
    let seen: Vec<(i64, i64)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["attempt"].as_i64().unwrap(),
                a["status_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, vec![(3, 200), (2, 500), (1, 500)]);
    let now = json_ok(
        app.get(
            &format!("/v1/webhook-endpoints/{}", endpoint["id"].as_str().unwrap()),
            &creative.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        now["failing_since"],
        Value::Null,
        "a success clears the failure"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_new_one() {
    let app = app_for_receivers(|_| {}).await;
    let (url, r) = receiver(0).await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let endpoint = create_endpoint(&app, &creative, &url, &["order.placed"]).await;
    let old = endpoint["secret"].as_str().unwrap().to_string();
    let path = format!(
        "/v1/webhook-endpoints/{}/rotate-secret",
        endpoint["id"].as_str().unwrap()
    );
    let rotated = json_ok(
        app.post(&path, Some(&creative.token), &json!({})).await,
        StatusCode::OK,
    )
    .await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    assert!(rotated["secret_rotated_until"].is_string());
    // A second rotation would cut the first secret off before its 24 hours: refused.
    let again = app.post(&path, Some(&creative.token), &json!({})).await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "rotation_in_progress"
    );

    app.place_order(&client, &creative).await;
    let got = wait_for(&r, 1).await;
    assert_eq!(got[0].signature.matches("v1=").count(), 2);
    assert!(verifies(&new, &got[0].signature, &got[0].body));
    assert!(verifies(&old, &got[0].signature, &got[0].body));
    // The secret is shown on creation and rotation only.
    let read = app
        .get(
            &format!("/v1/webhook-endpoints/{}", endpoint["id"].as_str().unwrap()),
            &creative.token,
        )
        .await;
    assert!(json_ok(read, StatusCode::OK).await.get("secret").is_none());
}

#[tokio::test]
async fn an_endpoint_failing_past_the_limit_is_disabled_and_its_owner_told() {
    let app = app_for_receivers(|s| s.webhooks.disable_after = Duration::from_secs(1)).await;
    let (url, r) = receiver(usize::MAX).await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let endpoint = create_endpoint(&app, &creative, &url, &["order.placed"]).await;
    let id = endpoint["id"].as_str().unwrap().to_string();
    app.place_order(&client, &creative).await;
    wait_for(&r, 2).await;

    let mut state = Value::Null;
    for _ in 0..300 {
        state = json_ok(
            app.get(&format!("/v1/webhook-endpoints/{id}"), &creative.token)
                .await,
            StatusCode::OK,
        )
        .await;
        if state["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state["enabled"], false, "{state}");
    assert_eq!(state["disabled_reason"], "failing");
    let mut told = false;
    for _ in 0..300 {
        let inbox = json_ok(
            app.get("/v1/notifications", &creative.token).await,
            StatusCode::OK,
        )
        .await;
        told = inbox["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["event_type"] == "webhook_endpoint.disabled");
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(told, "the owner hears that the endpoint was disabled");
    let attempts_then = r.got.lock().unwrap().len();
    app.place_order(&client, &creative).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        r.got.lock().unwrap().len(),
        attempts_then,
        "a disabled endpoint gets nothing"
    );

    // Enabling it again clears the failure.
    let res = app
        .patch(
            &format!("/v1/webhook-endpoints/{id}"),
            &creative.token,
            &json!({"enabled": true}),
        )
        .await;
    let enabled = json_ok(res, StatusCode::OK).await;
    assert_eq!(enabled["enabled"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    assert_eq!(enabled["failing_since"], Value::Null);
}

#[tokio::test]
async fn endpoints_at_internal_addresses_are_refused_whatever_the_spelling() {
    // The default test settings: no range allowed, so the filter is on in full.
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let refuse = async |url: &str, code: &str| {
        let res = app
            .post(
                "/v1/webhook-endpoints",
                Some(&owner.token),
                &json!({"url": url, "events": ["order.placed"]}),
            )
            .await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{url}: {body}");
    };
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.20/hook",
        "https://100.64.0.1/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a9fe:a9fe]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
    ] {
        refuse(url, "forbidden_address").await;
    }
    refuse("http://hooks.test/hook", "https_required").await;
    refuse("https://user:pw@hooks.test/hook", "credentials_in_url").await;
    refuse("https://elsewhere.example/hook", "unresolvable_host").await;
    refuse("hooks.test/hook", "invalid_url").await;
    let none = app.get("/v1/webhook-endpoints", &owner.token).await;
    assert_eq!(json_ok(none, StatusCode::OK).await["data"], json!([]));
}

#[tokio::test]
async fn an_endpoint_is_its_owners_alone_and_subscriptions_are_checked() {
    let app = app_for_receivers(|_| {}).await;
    let (url, _r) = receiver(0).await;
    let owner = app.register("owner").await;
    let other = app.register("other").await;
    let endpoint = create_endpoint(&app, &owner, &url, &["order.placed"]).await;
    let path = format!("/v1/webhook-endpoints/{}", endpoint["id"].as_str().unwrap());
    problem(app.get(&path, &other.token).await, StatusCode::NOT_FOUND).await;
    let res = app
        .patch(&path, &other.token, &json!({"enabled": false}))
        .await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .request(Method::DELETE, &path, Some(&other.token))
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
    let res = app
        .post(
            &format!("{path}/rotate-secret"),
            Some(&other.token),
            &json!({}),
        )
        .await;
    problem(res, StatusCode::NOT_FOUND).await;

    for events in [
        json!([]),
        json!(["user.password_reset_requested"]),
        json!(["order.nope"]),
    ] {
        let res = app
            .post(
                "/v1/webhook-endpoints",
                Some(&owner.token),
                &json!({"url": url, "events": events}),
            )
            .await;
        let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["errors"][0]["field"], "events");
    }
    let stale = app
        .request(Method::PATCH, &path, Some(&owner.token))
        .header("If-Match", "\"7\"")
        .json(&json!({"description": null}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    for _ in 0..9 {
        create_endpoint(&app, &owner, &url, &["order.placed"]).await;
    }
    let res = app
        .post(
            "/v1/webhook-endpoints",
            Some(&owner.token),
            &json!({"url": url, "events": ["order.placed"]}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::CONFLICT).await["code"],
        "too_many_webhook_endpoints"
    );
    let res = app
        .request(Method::DELETE, &path, Some(&owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(app.get(&path, &owner.token).await, StatusCode::NOT_FOUND).await;
}
