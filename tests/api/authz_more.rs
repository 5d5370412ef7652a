//! The authorization matrix's arrangements for payment terms, invoices, billing details, reviews and
//! profiles (kept apart so `authz.rs` stays readable).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::authz::{call, Call, Parties};
use crate::helpers::{json_ok, TestApp};
use crate::invoices::{act, billing_profile, draft};

pub const OPERATIONS: [&str; 41] = [
    "createTicket",
    "listTickets",
    "getTicket",
    "replyToTicket",
    "uploadTicketAttachment",
    "listAllTickets",
    "getAnyTicket",
    "assignTicket",
    "answerTicket",
    "resolveTicket",
    "searchUsers",
    "getUser",
    "disableUser",
    "enableUser",
    "sendPasswordReset",
    "extendDueDate",
    "resolveDispute",
    "listAuditLog",
    "getPaymentTerms",
    "proposePaymentTerms",
    "acceptPaymentTerms",
    "createInvoice",
    "listInvoices",
    "getInvoice",
    "updateInvoice",
    "deleteInvoice",
    "sendInvoice",
    "voidInvoice",
    "markInvoiceUncollectible",
    "markInvoicePaid",
    "getInvoicePdf",
    "getInvoiceHtml",
    "getBillingProfile",
    "putBillingProfile",
    "createReview",
    "listOrderReviews",
    "replyToReview",
    "hideReview",
    "getUserProfile",
    "listUserReviews",
    "reorderOrder",
];

fn terms() -> Value {
    json!({"amount": {"amount": 15000, "currency": "EUR"}, "method": "card",
        "due_at": (chrono::Utc::now() + chrono::Duration::days(9)).to_rfc3339(), "schedule": "upfront"})
}

fn profile() -> Value {
    json!({"legal_name": "Someone Ltd", "address_lines": ["1 Main Street"], "country": "GB"})
}

pub async fn arrange(app: &TestApp, p: &Parties<'_>, op: &str) -> Call {
    match op {
        "getBillingProfile" => {
            for user in [p.client, p.creative, p.outsider, p.admin] {
                billing_profile(app, user, "Someone Ltd").await;
            }
            call(Method::GET, "/v1/me/billing-profile".into(), None)
        }
        "putBillingProfile" => call(
            Method::PUT,
            "/v1/me/billing-profile".into(),
            Some(profile()),
        ),
        "listInvoices" => call(Method::GET, "/v1/invoices".into(), None),
        "getUserProfile" => call(
            Method::GET,
            format!("/v1/users/{}/profile", p.creative.id),
            None,
        ),
        "listUserReviews" => call(
            Method::GET,
            format!("/v1/users/{}/reviews", p.creative.id),
            None,
        ),
        op if REVIEWS.contains(&op) => arrange_review(app, p, op).await,
        op if SUPPORT.contains(&op) => arrange_support(app, p, op).await,
        _ => {
            let order = app.order_in("in_progress", p.client, p.creative).await;
            if op.contains("PaymentTerms") {
                return arrange_terms(app, p, op, &order).await;
            }
            arrange_invoice(app, p, op, &order).await
        }
    }
}

async fn arrange_terms(app: &TestApp, p: &Parties<'_>, op: &str, order: &str) -> Call {
    let path = format!("/v1/orders/{order}/payment-terms");
    let res = app
        .request(Method::PUT, &path, Some(&p.client.token))
        .json(&terms())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut c = match op {
        "getPaymentTerms" => call(Method::GET, path.clone(), None),
        "proposePaymentTerms" => call(Method::PUT, path.clone(), Some(terms())),
        _ => {
            let mut c = call(Method::POST, format!("{path}/accept"), None);
            c.owner_is_creative = true;
            c.headers.push(("If-Match", "\"1\"".into()));
            c
        }
    };
    c.probe = Some(path);
    c
}

async fn arrange_invoice(app: &TestApp, p: &Parties<'_>, op: &str, order: &str) -> Call {
    billing_profile(app, p.creative, "Creative Ltd").await;
    if op == "createInvoice" {
        let body = json!({"order_id": order, "line_items": [{"description": "Work", "quantity": 1, "unit_amount": 100}]});
        let mut c = call(Method::POST, "/v1/invoices".into(), Some(body));
        c.owner_is_creative = true;
        return c;
    }
    let inv = json_ok(
        draft(app, p.creative, order, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = inv["id"].as_str().unwrap().to_string();
    let stays_draft = matches!(op, "updateInvoice" | "deleteInvoice" | "sendInvoice");
    if !stays_draft {
        json_ok(
            act(app, p.creative, &id, "send", None).await,
            StatusCode::OK,
        )
        .await;
    }
    let path = format!("/v1/invoices/{id}");
    let mut c = match op {
        "getInvoice" => call(Method::GET, path.clone(), None),
        "getInvoicePdf" => call(Method::GET, format!("{path}/pdf"), None),
        "getInvoiceHtml" => call(Method::GET, format!("{path}/html"), None),
        "updateInvoice" => call(Method::PATCH, path.clone(), Some(json!({"memo": "Thanks"}))),
        "deleteInvoice" => call(Method::DELETE, path.clone(), None),
        "sendInvoice" => call(Method::POST, format!("{path}/send"), None),
        "voidInvoice" => call(Method::POST, format!("{path}/void"), None),
        "markInvoiceUncollectible" => {
            call(Method::POST, format!("{path}/mark-uncollectible"), None)
        }
        _ => call(
            Method::POST,
            format!("{path}/mark-paid"),
            Some(json!({"method": "bank_transfer", "reference": "SEPA 1"})),
        ),
    };
    c.owner_is_creative = true;
    c.probe = Some(path);
    c
}

const REVIEWS: [&str; 5] = [
    "createReview",
    "listOrderReviews",
    "replyToReview",
    "hideReview",
    "reorderOrder",
];

/// On a completed order of the world's client with its creative.
async fn arrange_review(app: &TestApp, p: &Parties<'_>, op: &str) -> Call {
    let order = app.order_in("completed", p.client, p.creative).await;
    let path = format!("/v1/orders/{order}/reviews");
    match op {
        "createReview" => {
            let mut c = call(Method::POST, path.clone(), Some(json!({"rating": 5})));
            c.probe = Some(path);
            c
        }
        "listOrderReviews" => call(Method::GET, path, None),
        "reorderOrder" => call(
            Method::POST,
            format!("/v1/orders/{order}/reorder"),
            Some(json!({
            "due_at": (chrono::Utc::now() + chrono::Duration::days(9)).to_rfc3339()})),
        ),
        _ => {
            // Both reviewed, so both are published; the client's is about the creative.
            let review = json_ok(
                app.post(&path, Some(&p.client.token), &json!({"rating": 4}))
                    .await,
                StatusCode::CREATED,
            )
            .await;
            json_ok(
                app.post(&path, Some(&p.creative.token), &json!({"rating": 5}))
                    .await,
                StatusCode::CREATED,
            )
            .await;
            let id = review["id"].as_str().unwrap();
            let mut c = if op == "replyToReview" {
                call(
                    Method::POST,
                    format!("/v1/reviews/{id}/reply"),
                    Some(json!({"body": "Thanks!"})),
                )
            } else {
                call(
                    Method::POST,
                    format!("/v1/admin/reviews/{id}/hide"),
                    Some(json!({"reason": "Rules."})),
                )
            };
            c.owner_is_creative = true;
            c.probe = Some(path);
            c
        }
    }
}

const SUPPORT: [&str; 18] = [
    "createTicket",
    "listTickets",
    "getTicket",
    "replyToTicket",
    "uploadTicketAttachment",
    "listAllTickets",
    "getAnyTicket",
    "assignTicket",
    "answerTicket",
    "resolveTicket",
    "searchUsers",
    "getUser",
    "disableUser",
    "enableUser",
    "sendPasswordReset",
    "extendDueDate",
    "resolveDispute",
    "listAuditLog",
];

/// Tickets are the client's; the team's tools act on a fresh ticket, user or order each call.
async fn arrange_support(app: &TestApp, p: &Parties<'_>, op: &str) -> Call {
    let body = |v: Value| Some(v);
    match op {
        "createTicket" => call(
            Method::POST,
            "/v1/support/tickets".into(),
            body(json!({"subject": "Help", "body": "Please."})),
        ),
        "listTickets" => call(Method::GET, "/v1/support/tickets".into(), None),
        "listAllTickets" => call(Method::GET, "/v1/admin/tickets".into(), None),
        "searchUsers" => call(Method::GET, "/v1/admin/users".into(), None),
        "listAuditLog" => call(Method::GET, "/v1/admin/audit-log".into(), None),
        "getUser" | "disableUser" | "enableUser" | "sendPasswordReset" => {
            let target = app
                .register(&format!("target-{}", uuid::Uuid::new_v4().simple()))
                .await;
            let path = format!("/v1/admin/users/{}", target.id);
            match op {
                "getUser" => call(Method::GET, path, None),
                "sendPasswordReset" => call(Method::POST, format!("{path}/password-reset"), None),
                "disableUser" => call(
                    Method::POST,
                    format!("{path}/disable"),
                    body(json!({"reason": "r"})),
                ),
                _ => call(
                    Method::POST,
                    format!("{path}/enable"),
                    body(json!({"reason": "r"})),
                ),
            }
        }
        "extendDueDate" => {
            let order = app.order_in("in_progress", p.client, p.creative).await;
            let due = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
            let mut c = call(
                Method::POST,
                format!("/v1/admin/orders/{order}/due-date"),
                body(json!({"due_at": due, "note": "More time"})),
            );
            c.probe = Some(format!("/v1/orders/{order}"));
            c
        }
        "resolveDispute" => {
            let order = app.order_in("disputed", p.client, p.creative).await;
            let mut c = call(
                Method::POST,
                format!("/v1/admin/orders/{order}/dispute-resolution"),
                body(json!({"outcome": "completed", "note": "Fine"})),
            );
            c.probe = Some(format!("/v1/orders/{order}"));
            c
        }
        _ => {
            let ticket = crate::support::simple_ticket(app, p.client).await;
            let path = format!("/v1/support/tickets/{ticket}");
            let staff = format!("/v1/admin/tickets/{ticket}");
            let mut c = match op {
                "getTicket" => call(Method::GET, path.clone(), None),
                "replyToTicket" => call(
                    Method::POST,
                    format!("{path}/replies"),
                    body(json!({"body": "More"})),
                ),
                "uploadTicketAttachment" => {
                    let mut c = call(Method::POST, format!("{path}/attachments"), None);
                    c.upload = true;
                    c
                }
                "getAnyTicket" => call(Method::GET, staff, None),
                "assignTicket" => call(
                    Method::POST,
                    format!("{staff}/assign"),
                    body(json!({"assignee_id": p.admin.id})),
                ),
                "answerTicket" => call(
                    Method::POST,
                    format!("{staff}/replies"),
                    body(json!({"body": "Answer"})),
                ),
                _ => call(Method::POST, format!("{staff}/resolve"), None),
            };
            c.probe = Some(path);
            c
        }
    }
}
