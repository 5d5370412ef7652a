//! Support tickets over HTTP: a ticket's life between its user and the team, who sees what, files.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, TestApp, TestUser};
use crate::notifications::app_mailing_to;
use crate::smtp::Smtp;

pub(crate) async fn open_ticket(app: &TestApp, user: &TestUser, body: Value) -> Value {
    json_ok(
        app.post("/v1/support/tickets", Some(&user.token), &body)
            .await,
        StatusCode::CREATED,
    )
    .await
}

pub(crate) async fn simple_ticket(app: &TestApp, user: &TestUser) -> String {
    let t = open_ticket(
        app,
        user,
        json!({"subject": "Help", "body": "I need help."}),
    )
    .await;
    t["id"].as_str().unwrap().to_string()
}

async fn ticket(app: &TestApp, user: &TestUser, id: &str) -> Value {
    json_ok(
        app.get(&format!("/v1/support/tickets/{id}"), &user.token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn staff_view(app: &TestApp, admin: &TestUser, id: &str) -> Value {
    json_ok(
        app.get(&format!("/v1/admin/tickets/{id}"), &admin.token)
            .await,
        StatusCode::OK,
    )
    .await
}

async fn reply(app: &TestApp, user: &TestUser, id: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/v1/support/tickets/{id}/replies"),
        Some(&user.token),
        &body,
    )
    .await
}

async fn answer(app: &TestApp, admin: &TestUser, id: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/v1/admin/tickets/{id}/replies"),
        Some(&admin.token),
        &body,
    )
    .await
}

#[tokio::test]
async fn a_ticket_lives_from_question_to_resolution_and_reopens_within_the_window() {
    let smtp = Smtp::start();
    let app = app_mailing_to(smtp.port, |_| {}).await;
    let (ada, support) = (
        app.register("ada").await,
        app.register_admin("support").await,
    );

    let opened = open_ticket(
        &app,
        &ada,
        json!({"subject": "Login", "body": "My phone logs me out."}),
    )
    .await;
    assert_eq!(opened["status"], "open");
    assert_eq!(opened["messages"][0]["author_role"], "user");
    let id = opened["id"].as_str().unwrap().to_string();

    let listed = json_ok(
        app.get("/v1/admin/tickets?status=open", &support.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id.as_str()));

    let assigned = json_ok(
        app.post(
            &format!("/v1/admin/tickets/{id}/assign"),
            Some(&support.token),
            &json!({"assignee_id": support.id}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(assigned["assigned_to"], support.id.to_string());
    let mine = json_ok(
        app.get(
            &format!("/v1/admin/tickets?assigned_to={}", support.id),
            &support.token,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);

    let answered = json_ok(
        answer(
            &app,
            &support,
            &id,
            json!({"body": "Which phone do you use?"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(answered["author_role"], "support");
    assert_eq!(ticket(&app, &ada, &id).await["status"], "waiting_on_user");
    // The answer is mailed to the user through the notifications pipeline, with the support
    // address in the footer.
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    let mail = mails
        .iter()
        .find(|m| m.subject.contains("Support answered"))
        .expect("answer mailed");
    assert_eq!(mail.to, vec![ada.email.clone()]);
    assert!(mail.text.contains("contact@tristetix.com"), "{}", mail.text);

    json_ok(
        reply(&app, &ada, &id, json!({"body": "A Pixel 8."})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ticket(&app, &ada, &id).await["status"], "open");

    let resolved = json_ok(
        app.post(
            &format!("/v1/admin/tickets/{id}/resolve"),
            Some(&support.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(resolved["status"], "resolved");
    let again = app
        .post(
            &format!("/v1/admin/tickets/{id}/resolve"),
            Some(&support.token),
            &json!({}),
        )
        .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["code"],
        "ticket_resolved"
    );

    // Within 14 days a reply reopens it.
    json_ok(
        reply(&app, &ada, &id, json!({"body": "It happened again."})).await,
        StatusCode::CREATED,
    )
    .await;
    let reopened = ticket(&app, &ada, &id).await;
    assert_eq!(reopened["status"], "open");
    assert!(reopened["resolved_at"].is_null());
    assert_eq!(reopened["messages"].as_array().unwrap().len(), 4);

    // Resolved more than 14 days ago: closed, and a reply is refused without writing anything.
    json_ok(
        app.post(
            &format!("/v1/admin/tickets/{id}/resolve"),
            Some(&support.token),
            &json!({}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.sql(&format!(
        "UPDATE support_tickets SET resolved_at = now() - interval '15 days' WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(ticket(&app, &ada, &id).await["status"], "closed");
    let late = reply(&app, &ada, &id, json!({"body": "Hello?"})).await;
    assert_eq!(
        problem(late, StatusCode::CONFLICT).await["code"],
        "ticket_closed"
    );
    assert_eq!(
        ticket(&app, &ada, &id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // The worker marks it so, for the list filters.
    createspace::jobs::run_once(&app.pool, &app.settings.orders)
        .await
        .unwrap();
    let closed = json_ok(
        app.get("/v1/support/tickets?status=closed", &ada.token)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["data"][0]["id"], id.as_str());
}

#[tokio::test]
async fn nobody_sees_another_users_ticket_nor_the_teams_internal_notes() {
    let app = TestApp::spawn().await;
    let (ada, eve, support) = (
        app.register("ada").await,
        app.register("eve").await,
        app.register_admin("support").await,
    );
    let id = simple_ticket(&app, &ada).await;

    for res in [
        app.get(&format!("/v1/support/tickets/{id}"), &eve.token)
            .await,
        reply(&app, &eve, &id, json!({"body": "me too"})).await,
    ] {
        assert_eq!(
            problem(res, StatusCode::NOT_FOUND).await["code"],
            "not_found"
        );
    }
    let eves = json_ok(
        app.get("/v1/support/tickets", &eve.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(eves["data"].as_array().unwrap().is_empty());

    json_ok(
        answer(
            &app,
            &support,
            &id,
            json!({"body": "User seems to be on an old app.", "internal": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seen = ticket(&app, &ada, &id).await;
    assert_eq!(seen["messages"].as_array().unwrap().len(), 1, "{seen}");
    // Nothing the user sees tells of the note: not the count, not the version.
    assert_eq!(seen["message_count"], 1);
    assert_eq!(seen["version"], 2);
    assert!(!seen.to_string().contains("old app"));
    // A note changes nothing for the user: the ticket is still with the team.
    assert_eq!(seen["status"], "open");
    let staff = staff_view(&app, &support, &id).await;
    assert_eq!(staff["messages"].as_array().unwrap().len(), 2);
    assert_eq!(staff["messages"][1]["internal"], true);
    // A note reaches nobody's inbox.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inbox = json_ok(
        app.get("/v1/notifications", &ada.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(inbox["data"].as_array().unwrap().is_empty(), "{inbox}");
}

#[tokio::test]
async fn a_ticket_about_an_order_must_name_one_of_the_callers_orders() {
    let app = TestApp::spawn().await;
    let (client, creative, eve) = (
        app.register("client").await,
        app.register("creative").await,
        app.register("eve").await,
    );
    let order = app.place_order(&client, &creative).await;
    let order_id = order["id"].as_str().unwrap();

    let res = app
        .post(
            "/v1/support/tickets",
            Some(&eve.token),
            &json!({"subject": "x", "body": "y", "order_id": order_id}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "order_id");
    assert_eq!(body["errors"][0]["code"], "unknown_order");

    let res = app
        .post(
            "/v1/support/tickets",
            Some(&eve.token),
            &json!({"subject": " ", "body": "", "attachment_ids": ["nope"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let t = open_ticket(
        &app,
        &creative,
        json!({"subject": "Client unresponsive", "body": "…", "order_id": order_id}),
    )
    .await;
    assert_eq!(t["order_id"], order_id);
    let count: Value = app
        .get("/v1/support/tickets", &eve.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        count["data"].as_array().unwrap().is_empty(),
        "no ticket was written for eve"
    );
}

#[tokio::test]
async fn files_go_to_a_ticket_and_only_its_user_and_the_team_read_them() {
    let app = TestApp::spawn().await;
    let (client, creative, support) = (
        app.register("client").await,
        app.register("creative").await,
        app.register_admin("support").await,
    );
    let order = app.place_order(&client, &creative).await;
    let order_id = order["id"].as_str().unwrap();

    // An order upload named when opening moves to the ticket: the other party no longer sees it.
    let up = json_ok(
        app.upload(
            &client,
            order_id,
            "proof.txt",
            "text/plain",
            b"proof".to_vec(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let file = up["id"].as_str().unwrap();
    let t = open_ticket(
        &app,
        &client,
        json!({"subject": "Dispute", "body": "See file", "order_id": order_id, "attachment_ids": [file]}),
    )
    .await;
    assert_eq!(t["messages"][0]["attachments"][0]["id"], file);
    assert_eq!(t["messages"][0]["attachments"][0]["ticket_id"], t["id"]);
    let res = app
        .get(&format!("/v1/attachments/{file}"), &creative.token)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    json_ok(
        app.get(&format!("/v1/attachments/{file}"), &support.token)
            .await,
        StatusCode::OK,
    )
    .await;

    // A file uploaded to the ticket, then referenced by a reply.
    let id = t["id"].as_str().unwrap();
    let part = reqwest::multipart::Part::bytes(b"more".to_vec()).file_name("more.txt");
    let res = app
        .request(
            Method::POST,
            &format!("/v1/support/tickets/{id}/attachments"),
            Some(&client.token),
        )
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let more = json_ok(res, StatusCode::CREATED).await;
    assert!(more["order_id"].is_null());
    let more_id = more["id"].as_str().unwrap();
    let part = reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt");
    let res = app
        .request(
            Method::POST,
            &format!("/v1/support/tickets/{id}/attachments"),
            Some(&creative.token),
        )
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "not the creative's ticket"
    );
    let posted = json_ok(
        reply(
            &app,
            &client,
            id,
            json!({"body": "one more", "attachment_ids": [more_id]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(posted["attachments"][0]["id"], more_id);
    // Taken once only.
    let again = reply(
        &app,
        &client,
        id,
        json!({"body": "again", "attachment_ids": [more_id]}),
    )
    .await;
    assert_eq!(
        problem(again, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "unknown_attachment"
    );
    let content = app
        .get(&format!("/v1/attachments/{more_id}/content"), &client.token)
        .await;
    assert_eq!(content.status(), StatusCode::OK);
    assert_eq!(content.bytes().await.unwrap().as_ref(), b"more");
    // Internal notes carry no files.
    let note = answer(
        &app,
        &support,
        id,
        json!({"body": "n", "internal": true, "attachment_ids": [more_id]}),
    )
    .await;
    assert_eq!(
        problem(note, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["field"],
        "attachment_ids"
    );
}

#[tokio::test]
async fn concurrent_replies_each_count_once() {
    let app = TestApp::spawn().await;
    let (ada, support) = (
        app.register("ada").await,
        app.register_admin("support").await,
    );
    let id = simple_ticket(&app, &ada).await;
    let mut calls = Vec::new();
    for i in 0..10 {
        let (app, ada, support, id) = (&app, &ada, &support, id.clone());
        calls.push(async move {
            if i % 2 == 0 {
                reply(app, ada, &id, json!({"body": format!("user {i}")}))
                    .await
                    .status()
            } else {
                answer(app, support, &id, json!({"body": format!("team {i}")}))
                    .await
                    .status()
            }
        });
    }
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status, StatusCode::CREATED);
    }
    let t = staff_view(&app, &support, &id).await;
    assert_eq!(t["message_count"], 11);
    assert_eq!(t["messages"].as_array().unwrap().len(), 11);
}

#[tokio::test]
async fn the_team_cannot_answer_its_own_ticket_and_users_open_a_bounded_number() {
    let app = TestApp::spawn_with(|s| s.rate_limits.support_tickets_per_user_per_hour = 10).await;
    let (boss, ada) = (app.register_admin("boss").await, app.register("ada").await);
    let own = simple_ticket(&app, &boss).await;
    let res = answer(&app, &boss, &own, json!({"body": "me"})).await;
    assert_eq!(
        problem(res, StatusCode::FORBIDDEN).await["code"],
        "own_ticket"
    );
    for _ in 0..10 {
        simple_ticket(&app, &ada).await;
    }
    let res = app
        .post(
            "/v1/support/tickets",
            Some(&ada.token),
            &json!({"subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_team_member_never_handles_a_ticket_about_their_own_order() {
    let app = TestApp::spawn().await;
    let (client, creative_admin, support) = (
        app.register("client").await,
        app.register_admin("creative-admin").await,
        app.register_admin("support").await,
    );
    let order = app.place_order(&client, &creative_admin).await;
    let t = open_ticket(
        &app,
        &client,
        json!({"subject": "Late", "body": "Nothing delivered.", "order_id": order["id"]}),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    for res in [
        app.get(&format!("/v1/admin/tickets/{id}"), &creative_admin.token)
            .await,
        answer(&app, &creative_admin, id, json!({"body": "All fine."})).await,
        app.post(
            &format!("/v1/admin/tickets/{id}/resolve"),
            Some(&creative_admin.token),
            &json!({}),
        )
        .await,
    ] {
        assert_eq!(
            problem(res, StatusCode::FORBIDDEN).await["code"],
            "own_order"
        );
    }
    let listed = json_ok(
        app.get("/v1/admin/tickets", &creative_admin.token).await,
        StatusCode::OK,
    )
    .await;
    assert!(listed["data"].as_array().unwrap().is_empty(), "{listed}");
    // Nor is it assigned to them.
    let res = app
        .post(
            &format!("/v1/admin/tickets/{id}/assign"),
            Some(&support.token),
            &json!({"assignee_id": creative_admin.id}),
        )
        .await;
    assert_eq!(
        problem(res, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][0]["code"],
        "not_support"
    );
    assert_eq!(staff_view(&app, &support, id).await["id"], id);
}
