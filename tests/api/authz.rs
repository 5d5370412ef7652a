//! The authorization matrix: every operation of the generated OpenAPI document, called as each kind
//! of caller, against the table below. An operation without a row fails the test, so no endpoint can
//! land without saying who may call it.
//!
//! Callers, in column order: no token, an expired token, a token signed with another key, an
//! outsider (registered, no part in the resource), the other party, the owner (the party the
//! operation is for), and an admin who is not a party.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use createspace::auth::jwt::Keys;
use createspace::domain::ids::UserId;
use createspace::http::docs;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

use crate::helpers::{
    mailed_token, reset_token_for, sid_of, test_settings, TestApp, TestUser, JWT_SECRET, PASSWORD,
};

/// The key id the server derives from its secret (the first six bytes of its SHA-256, in hex).
fn server_kid() -> String {
    Sha256::digest(JWT_SECRET.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Expired,
    WrongKey,
    Outsider,
    OtherParty,
    Owner,
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Expired,
    Caller::WrongKey,
    Caller::Outsider,
    Caller::OtherParty,
    Caller::Owner,
    Caller::Admin,
];

/// Expected status per caller, in [`CALLERS`] order. `PUBLIC_*` rows ignore the token entirely.
type Row = (&'static str, [u16; 7]);

const MATRIX: &[Row] = &[
    // operationId                      anon  expd  wkey  outs  other owner admin
    ("getHealth", [200, 200, 200, 200, 200, 200, 200]),
    ("getReadiness", [200, 200, 200, 200, 200, 200, 200]),
    ("register", [201, 201, 201, 201, 201, 201, 201]),
    ("login", [200, 200, 200, 200, 200, 200, 200]),
    ("refreshToken", [200, 200, 200, 200, 200, 200, 200]),
    ("logout", [204, 204, 204, 204, 204, 204, 204]),
    ("requestPasswordReset", [202, 202, 202, 202, 202, 202, 202]),
    ("confirmPasswordReset", [204, 204, 204, 204, 204, 204, 204]),
    ("getMe", [401, 401, 401, 200, 200, 200, 200]),
    ("updateMe", [401, 401, 401, 200, 200, 200, 200]),
    ("getDashboard", [401, 401, 401, 200, 200, 200, 200]),
    ("listServices", [200, 200, 200, 200, 200, 200, 200]),
    ("getService", [200, 200, 200, 200, 200, 200, 200]),
    ("createService", [401, 401, 401, 201, 201, 201, 201]),
    // A service is public to read, so a non-owner learns nothing from 403.
    ("updateService", [401, 401, 401, 403, 403, 200, 403]),
    ("archiveService", [401, 401, 401, 403, 403, 200, 403]),
    // Anyone may order from the creative; the creative ordering from themself is 422 self_order.
    ("createOrder", [401, 401, 401, 201, 422, 201, 201]),
    ("listOrders", [401, 401, 401, 200, 200, 200, 200]),
    ("getOrder", [401, 401, 401, 404, 200, 200, 200]),
    // The client edits a new order; the creative may not.
    ("updateOrder", [401, 401, 401, 404, 403, 200, 403]),
    ("listOrderTransitions", [401, 401, 401, 404, 200, 200, 200]),
    // Confirming a new order is the creative's move.
    ("createOrderTransition", [401, 401, 401, 404, 403, 200, 403]),
    // Either party may ask to cancel an order in progress; an admin is no party.
    (
        "createCancellationRequest",
        [401, 401, 401, 404, 201, 201, 403],
    ),
    (
        "getCancellationRequest",
        [401, 401, 401, 404, 200, 200, 200],
    ),
    // The party who did not ask answers.
    (
        "respondToCancellationRequest",
        [401, 401, 401, 404, 403, 200, 403],
    ),
    // The thread: both parties and admins read and write; outsiders learn nothing.
    ("createMessage", [401, 401, 401, 404, 201, 201, 201]),
    ("listMessages", [401, 401, 401, 404, 200, 200, 200]),
    ("markMessagesRead", [401, 401, 401, 404, 200, 200, 200]),
    ("uploadAttachment", [401, 401, 401, 404, 201, 201, 201]),
    ("getAttachment", [401, 401, 401, 404, 200, 200, 200]),
    ("getAttachmentContent", [401, 401, 401, 404, 200, 200, 200]),
    // Delivering is the creative's move.
    ("createDelivery", [401, 401, 401, 404, 403, 201, 403]),
    ("listDeliveries", [401, 401, 401, 404, 200, 200, 200]),
    // Everyone has an inbox and preferences of their own; a notification is its recipient's only
    // (here the creative's, of the order placed with them), admins included.
    ("listNotifications", [401, 401, 401, 200, 200, 200, 200]),
    ("readNotification", [401, 401, 401, 404, 404, 200, 404]),
    ("readAllNotifications", [401, 401, 401, 200, 200, 200, 200]),
    (
        "getNotificationPreferences",
        [401, 401, 401, 200, 200, 200, 200],
    ),
    (
        "putNotificationPreferences",
        [401, 401, 401, 200, 200, 200, 200],
    ),
    // The token in the body is the proof; the resend is for the caller's own address.
    ("verifyEmail", [204, 204, 204, 204, 204, 204, 204]),
    (
        "resendVerificationEmail",
        [401, 401, 401, 202, 202, 202, 202],
    ),
    // The support team's tools are for admins: anyone else signed in gets 403 `admin_only`.
    ("listDeadLetters", [401, 401, 401, 403, 403, 403, 200]),
    ("retryDeadLetter", [401, 401, 401, 403, 403, 403, 200]),
    // Payment terms: the parties negotiate (admins read); the other party accepts the client's
    // proposal, never its maker.
    ("getPaymentTerms", [401, 401, 401, 404, 200, 200, 200]),
    ("proposePaymentTerms", [401, 401, 401, 404, 200, 200, 403]),
    ("acceptPaymentTerms", [401, 401, 401, 404, 403, 200, 403]),
    // Invoices are the creative's to write; a draft is theirs alone until sent, so the client gets
    // 404 on it. An order_id the caller cannot see is a 422 on that field (an id in a body).
    ("createInvoice", [401, 401, 401, 422, 422, 201, 422]),
    ("listInvoices", [401, 401, 401, 200, 200, 200, 200]),
    ("getInvoice", [401, 401, 401, 404, 200, 200, 200]),
    ("updateInvoice", [401, 401, 401, 404, 404, 200, 403]),
    ("deleteInvoice", [401, 401, 401, 404, 404, 204, 403]),
    ("sendInvoice", [401, 401, 401, 404, 404, 200, 403]),
    ("voidInvoice", [401, 401, 401, 404, 403, 200, 403]),
    (
        "markInvoiceUncollectible",
        [401, 401, 401, 404, 403, 200, 403],
    ),
    ("markInvoicePaid", [401, 401, 401, 404, 403, 200, 403]),
    ("getInvoicePdf", [401, 401, 401, 404, 200, 200, 200]),
    ("getInvoiceHtml", [401, 401, 401, 404, 200, 200, 200]),
    // Everyone's billing details are their own.
    ("getBillingProfile", [401, 401, 401, 200, 200, 200, 200]),
    ("putBillingProfile", [401, 401, 401, 200, 200, 200, 200]),
    // Reviews: each party of a completed order reviews the other; a published review is public, so
    // anyone but its subject replying is a 403; hiding is for admins alone.
    ("createReview", [401, 401, 401, 404, 201, 201, 403]),
    ("listOrderReviews", [401, 401, 401, 404, 200, 200, 200]),
    ("replyToReview", [401, 401, 401, 403, 403, 200, 403]),
    ("hideReview", [401, 401, 401, 403, 403, 403, 200]),
    ("getUserProfile", [200, 200, 200, 200, 200, 200, 200]),
    ("listUserReviews", [200, 200, 200, 200, 200, 200, 200]),
    // Ordering again is the client's.
    ("reorderOrder", [401, 401, 401, 404, 403, 201, 403]),
    // Support tickets are their user's (here the client's); the team reads and answers them under
    // /v1/admin, so the user routes are 404 to an admin too, but for adding a file.
    ("createTicket", [401, 401, 401, 201, 201, 201, 201]),
    ("listTickets", [401, 401, 401, 200, 200, 200, 200]),
    ("getTicket", [401, 401, 401, 404, 404, 200, 404]),
    ("replyToTicket", [401, 401, 401, 404, 404, 201, 404]),
    (
        "uploadTicketAttachment",
        [401, 401, 401, 404, 404, 201, 201],
    ),
    // The team's tools.
    ("listAllTickets", [401, 401, 401, 403, 403, 403, 200]),
    ("getAnyTicket", [401, 401, 401, 403, 403, 403, 200]),
    ("assignTicket", [401, 401, 401, 403, 403, 403, 200]),
    ("answerTicket", [401, 401, 401, 403, 403, 403, 201]),
    ("resolveTicket", [401, 401, 401, 403, 403, 403, 200]),
    ("searchUsers", [401, 401, 401, 403, 403, 403, 200]),
    ("getUser", [401, 401, 401, 403, 403, 403, 200]),
    ("disableUser", [401, 401, 401, 403, 403, 403, 200]),
    ("enableUser", [401, 401, 401, 403, 403, 403, 200]),
    ("sendPasswordReset", [401, 401, 401, 403, 403, 403, 202]),
    ("extendDueDate", [401, 401, 401, 403, 403, 403, 200]),
    ("resolveDispute", [401, 401, 401, 403, 403, 403, 200]),
    ("listAuditLog", [401, 401, 401, 403, 403, 403, 200]),
    // Payments: the invoice's client pays and confirms; the creative paid (or support) refunds;
    // the parties and admins read. Balances, payout destinations and payouts are everyone's own;
    // a payout needs available money and a destination (422 otherwise).
    ("payInvoice", [401, 401, 401, 404, 403, 201, 403]),
    ("confirmPayment", [401, 401, 401, 404, 403, 200, 403]),
    ("getPayment", [401, 401, 401, 404, 200, 200, 200]),
    ("listPayments", [401, 401, 401, 200, 200, 200, 200]),
    ("refundPayment", [401, 401, 401, 404, 403, 201, 201]),
    ("getBalance", [401, 401, 401, 200, 200, 200, 200]),
    ("getPayoutDestination", [401, 401, 401, 200, 200, 200, 200]),
    ("putPayoutDestination", [401, 401, 401, 200, 200, 200, 200]),
    ("createPayout", [401, 401, 401, 422, 422, 201, 422]),
    ("listPayouts", [401, 401, 401, 200, 200, 200, 200]),
    // Stripe's webhook is authenticated by its signature, not a token, and exists only with
    // PAYMENT_PROVIDER=stripe (tests/api/stripe.rs); here, under the sandbox, it is 404 to all.
    ("stripeWebhook", [404, 404, 404, 404, 404, 404, 404]),
    // The live stream is everyone's own; webhook endpoints are their owner's alone (admins too
    // get 404: an endpoint's secret signs its owner's data).
    ("streamEvents", [401, 401, 401, 200, 200, 200, 200]),
    (
        "createEventStreamTicket",
        [401, 401, 401, 201, 201, 201, 201],
    ),
    ("createWebhookEndpoint", [401, 401, 401, 201, 201, 201, 201]),
    ("listWebhookEndpoints", [401, 401, 401, 200, 200, 200, 200]),
    ("getWebhookEndpoint", [401, 401, 401, 404, 404, 200, 404]),
    ("updateWebhookEndpoint", [401, 401, 401, 404, 404, 200, 404]),
    ("deleteWebhookEndpoint", [401, 401, 401, 404, 404, 204, 404]),
    ("rotateWebhookSecret", [401, 401, 401, 404, 404, 200, 404]),
    ("listWebhookDeliveries", [401, 401, 401, 404, 404, 200, 404]),
];

/// The people of one scenario: the order's client and creative, someone unrelated, and an admin.
struct World {
    client: TestUser,
    creative: TestUser,
    outsider: TestUser,
    admin: TestUser,
    expired: String,
    wrong_key: String,
}

impl World {
    /// The people the other matrix files arrange calls for.
    fn parties(&self) -> Parties<'_> {
        Parties {
            client: &self.client,
            creative: &self.creative,
            outsider: &self.outsider,
            admin: &self.admin,
        }
    }

    async fn new(app: &TestApp) -> World {
        let client = app.register("client").await;
        let now = chrono::Utc::now().timestamp();
        let keys = Keys::new(&test_settings().jwt);
        let expired = keys
            .issue(
                UserId::from_uuid(client.id),
                sid_of(&client.token),
                now - 24 * 3600,
            )
            .unwrap();
        // Another key, but claiming the server's key id: only the signature check can refuse it.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(server_kid());
        let claims = json!({"sub": client.id, "sid": sid_of(&client.token), "iat": now,
            "exp": now + 600, "jti": client.id});
        let wrong_key = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(b"a-different-secret-that-is-32-characters-or-more"),
        )
        .unwrap();
        World {
            creative: app.register("creative").await,
            outsider: app.register("outsider").await,
            admin: app.register_admin("admin").await,
            client,
            expired,
            wrong_key,
        }
    }

    fn token(&self, caller: Caller, owner: &TestUser, other: &TestUser) -> Option<String> {
        match caller {
            Caller::Anonymous => None,
            Caller::Expired => Some(self.expired.clone()),
            Caller::WrongKey => Some(self.wrong_key.clone()),
            Caller::Outsider => Some(self.outsider.token.clone()),
            Caller::OtherParty => Some(other.token.clone()),
            Caller::Owner => Some(owner.token.clone()),
            Caller::Admin => Some(self.admin.token.clone()),
        }
    }
}

/// The world's people, for arrangements kept in other files.
pub(crate) struct Parties<'a> {
    pub client: &'a TestUser,
    pub creative: &'a TestUser,
    pub outsider: &'a TestUser,
    pub admin: &'a TestUser,
}

/// One call to make: built fresh for each caller, so one caller's write cannot change the next
/// caller's outcome.
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    /// Who is the owner and who the other party for this operation.
    pub owner_is_creative: bool,
    /// What the owner reads to see the resource a write would change: a refused write must leave
    /// it exactly as it was.
    pub probe: Option<String>,
    /// Sent as a multipart upload (a `file` part) instead of a JSON body.
    pub upload: bool,
    /// Extra request headers (`If-Match`).
    pub headers: Vec<(&'static str, String)>,
}

pub(crate) fn call(method: Method, path: String, body: Option<Value>) -> Call {
    Call {
        method,
        path,
        body,
        owner_is_creative: false,
        probe: None,
        upload: false,
        headers: Vec::new(),
    }
}

async fn service(app: &TestApp, w: &World) -> String {
    let res = app
        .post(
            "/v1/services",
            Some(&w.creative.token),
            &json!({"title": "Logo", "description": "", "price": {"amount": 100, "currency": "EUR"},
                    "delivery_days": 3, "revisions_included": 1}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn arrange(app: &TestApp, w: &World, op: &str, n: usize) -> Call {
    let unique = |name: &str| format!("{name}-{n}@example.com");
    match op {
        "getHealth" => call(Method::GET, "/healthz".into(), None),
        "getReadiness" => call(Method::GET, "/readyz".into(), None),
        "register" => call(
            Method::POST,
            "/v1/auth/register".into(),
            Some(json!({"email": unique("new"), "password": PASSWORD, "display_name": "New"})),
        ),
        "login" => call(
            Method::POST,
            "/v1/auth/login".into(),
            Some(json!({"email": w.client.email, "password": PASSWORD})),
        ),
        "refreshToken" | "logout" => {
            let res = app
                .post(
                    "/v1/auth/login",
                    None,
                    &json!({"email": w.client.email, "password": PASSWORD}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK, "logging in to {op}");
            let refresh = res.json::<Value>().await.unwrap()["refresh_token"].clone();
            let path = if op == "logout" { "logout" } else { "refresh" };
            call(
                Method::POST,
                format!("/v1/auth/{path}"),
                Some(json!({ "refresh_token": refresh })),
            )
        }
        "requestPasswordReset" => call(
            Method::POST,
            "/v1/auth/password-reset".into(),
            Some(json!({"email": w.client.email})),
        ),
        "confirmPasswordReset" => {
            let user = app.register(&format!("forgetful-{n}")).await;
            let res = app
                .post(
                    "/v1/auth/password-reset",
                    None,
                    &json!({"email": user.email}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::ACCEPTED);
            let token = reset_token_for(app, user.id).await.unwrap();
            call(
                Method::POST,
                "/v1/auth/password-reset/confirm".into(),
                Some(json!({"token": token, "password": "a brand new passphrase"})),
            )
        }
        "getMe" => call(Method::GET, "/v1/me".into(), None),
        "updateMe" => call(
            Method::PATCH,
            "/v1/me".into(),
            Some(json!({"bio": "Hello"})),
        ),
        "getDashboard" => call(Method::GET, "/v1/dashboard".into(), None),
        "listServices" => call(Method::GET, "/v1/services".into(), None),
        "createService" => call(
            Method::POST,
            "/v1/services".into(),
            Some(
                json!({"title": "Logo", "description": "", "price": {"amount": 100, "currency": "EUR"},
                    "delivery_days": 3, "revisions_included": 1}),
            ),
        ),
        "getService" | "updateService" | "archiveService" => {
            let id = service(app, w).await;
            let probe = Some(format!("/v1/services/{id}"));
            let mut c = match op {
                "getService" => call(Method::GET, format!("/v1/services/{id}"), None),
                "updateService" => call(
                    Method::PATCH,
                    format!("/v1/services/{id}"),
                    Some(json!({"title": "Renamed"})),
                ),
                _ => call(Method::POST, format!("/v1/services/{id}/archive"), None),
            };
            c.owner_is_creative = true;
            c.probe = probe;
            c
        }
        "createOrder" => call(
            Method::POST,
            "/v1/orders".into(),
            Some(
                json!({"creative_id": w.creative.id, "title": "Logo", "requirements": "A fox.",
                    "price": {"amount": 100, "currency": "EUR"},
                    "due_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339()}),
            ),
        ),
        "listOrders" => call(Method::GET, "/v1/orders".into(), None),
        "listNotifications"
        | "readNotification"
        | "readAllNotifications"
        | "getNotificationPreferences"
        | "putNotificationPreferences"
        | "verifyEmail"
        | "resendVerificationEmail"
        | "listDeadLetters"
        | "retryDeadLetter" => arrange_notifications(app, w, op, n).await,
        op if crate::authz_money::OPERATIONS.contains(&op) => {
            crate::authz_money::arrange(app, &w.parties(), op).await
        }
        op if crate::authz_live::OPERATIONS.contains(&op) => {
            crate::authz_live::arrange(app, &w.parties(), op).await
        }
        op if crate::authz_more::OPERATIONS.contains(&op) => {
            crate::authz_more::arrange(app, &w.parties(), op).await
        }
        _ => arrange_order(app, w, op).await,
    }
}

/// The inbox, preferences, address verification and dead letters.
async fn arrange_notifications(app: &TestApp, w: &World, op: &str, n: usize) -> Call {
    match op {
        "listNotifications" => call(Method::GET, "/v1/notifications".into(), None),
        "readAllNotifications" => call(Method::POST, "/v1/notifications/read-all".into(), None),
        "getNotificationPreferences" => {
            call(Method::GET, "/v1/me/notification-preferences".into(), None)
        }
        "putNotificationPreferences" => call(
            Method::PUT,
            "/v1/me/notification-preferences".into(),
            Some(json!({"preferences": [
                {"event_type": "message.posted", "channel": "email", "enabled": false}]})),
        ),
        "readNotification" => {
            app.order_in("new", &w.client, &w.creative).await;
            let id = newest_notification(app, w.creative.id).await;
            Call {
                owner_is_creative: true,
                ..call(Method::POST, format!("/v1/notifications/{id}/read"), None)
            }
        }
        "verifyEmail" => {
            let user = app.register(&format!("unverified-{n}")).await;
            let token = mailed_token(app, user.id, "user.email_verification_requested")
                .await
                .unwrap();
            call(
                Method::POST,
                "/v1/auth/verify-email".into(),
                Some(json!({ "token": token })),
            )
        }
        "resendVerificationEmail" => {
            call(Method::POST, "/v1/auth/verify-email/resend".into(), None)
        }
        "listDeadLetters" => call(Method::GET, "/v1/admin/dead-letters".into(), None),
        _ => {
            // Someone's verification mail, given up on.
            let user = app.register(&format!("bounced-{n}")).await;
            mailed_token(app, user.id, "user.email_verification_requested").await;
            app.sql(&format!(
                "UPDATE notification_deliveries SET status = 'dead' WHERE recipient_id = '{}'",
                user.id
            ))
            .await;
            let id = dead_letter_of(app, user.id).await;
            call(
                Method::POST,
                format!("/v1/admin/dead-letters/{id}/retry"),
                None,
            )
        }
    }
}

/// Waits for the worker to put a notification in `user`'s inbox; its id.
async fn newest_notification(app: &TestApp, user: uuid::Uuid) -> uuid::Uuid {
    use createspace::db::schema::notifications::dsl as n;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    for _ in 0..200 {
        let mut conn = app.conn().await;
        let found: Option<uuid::Uuid> = n::notifications
            .filter(n::user_id.eq(user))
            .order(n::id.desc())
            .select(n::id)
            .first(&mut conn)
            .await
            .optional()
            .unwrap();
        if let Some(id) = found {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no notification for {user}");
}

async fn dead_letter_of(app: &TestApp, user: uuid::Uuid) -> uuid::Uuid {
    use createspace::db::schema::notification_deliveries::dsl as d;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    d::notification_deliveries
        .filter(d::recipient_id.eq(user))
        .filter(d::status.eq("dead"))
        .select(d::id)
        .first(&mut conn)
        .await
        .unwrap()
}

/// Operations on one order, placed by the world's client with its creative, in the state the
/// operation needs.
async fn arrange_order(app: &TestApp, w: &World, op: &str) -> Call {
    let status = match op {
        "createCancellationRequest"
        | "getCancellationRequest"
        | "respondToCancellationRequest"
        | "createDelivery" => "in_progress",
        _ => "new",
    };
    let id = app.order_in(status, &w.client, &w.creative).await;
    if matches!(
        op,
        "markMessagesRead" | "getAttachment" | "getAttachmentContent"
    ) {
        return arrange_thread(app, w, op, &id).await;
    }
    if matches!(
        op,
        "getCancellationRequest" | "respondToCancellationRequest"
    ) {
        let res = app
            .post(
                &format!("/v1/orders/{id}/cancellation-request"),
                Some(&w.client.token),
                &json!({"reason": "Changed my mind."}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let order = format!("/v1/orders/{id}");
    let (method, path, body, owner_is_creative) = match op {
        "getOrder" => (Method::GET, order.clone(), None, false),
        "updateOrder" => (
            Method::PATCH,
            order.clone(),
            Some(json!({"requirements": "A fox, in teal."})),
            false,
        ),
        "listOrderTransitions" => (Method::GET, format!("{order}/transitions"), None, false),
        "createOrderTransition" => (
            Method::POST,
            format!("{order}/transitions"),
            Some(json!({"to": "in_progress"})),
            true,
        ),
        "createCancellationRequest" => (
            Method::POST,
            format!("{order}/cancellation-request"),
            Some(json!({"reason": "Changed my mind."})),
            false,
        ),
        "getCancellationRequest" => (
            Method::GET,
            format!("{order}/cancellation-request"),
            None,
            false,
        ),
        "respondToCancellationRequest" => (
            Method::POST,
            format!("{order}/cancellation-request/response"),
            Some(json!({"decision": "accept"})),
            true,
        ),
        "createMessage" => (
            Method::POST,
            format!("{order}/messages"),
            Some(json!({"body": "Hello"})),
            false,
        ),
        "listMessages" => (Method::GET, format!("{order}/messages"), None, false),
        "uploadAttachment" => (Method::POST, format!("{order}/attachments"), None, false),
        "createDelivery" => (
            Method::POST,
            format!("{order}/deliveries"),
            Some(json!({"message": "Done."})),
            true,
        ),
        "listDeliveries" => (Method::GET, format!("{order}/deliveries"), None, false),
        other => panic!(
            "the operation `{other}` has no arrangement in tests/api/authz.rs: add its row to \
             MATRIX and a case to `arrange`, saying who may call it"
        ),
    };
    let probe = Some(if op.contains("CancellationRequest") {
        format!("{order}/cancellation-request")
    } else if op == "createMessage" {
        format!("{order}/messages")
    } else {
        order.clone()
    });
    Call {
        method,
        path,
        body,
        owner_is_creative,
        probe,
        upload: op == "uploadAttachment",
        headers: Vec::new(),
    }
}

/// Calls on what an order's thread holds: a message to mark read, a file to read.
async fn arrange_thread(app: &TestApp, w: &World, op: &str, id: &str) -> Call {
    let order = format!("/v1/orders/{id}");
    if op == "markMessagesRead" {
        let res = app.message(&w.creative, id, &json!({"body": "Hi"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let message = res.json::<Value>().await.unwrap()["id"].clone();
        return Call {
            probe: Some(format!("{order}/messages")),
            ..call(
                Method::POST,
                format!("{order}/messages/read"),
                Some(json!({ "up_to": message })),
            )
        };
    }
    let res = app
        .upload(&w.client, id, "notes.txt", "text/plain", b"notes".to_vec())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let file = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = if op == "getAttachment" {
        format!("/v1/attachments/{file}")
    } else {
        format!("/v1/attachments/{file}/content")
    };
    call(Method::GET, path, None)
}

fn document_operations() -> Vec<(String, String, String)> {
    let doc = docs::openapi();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((
                op["operationId"].as_str().unwrap().to_string(),
                method.to_uppercase(),
                path.clone(),
            ));
        }
    }
    ops
}

#[tokio::test]
async fn every_operation_has_a_row_and_every_row_an_operation() {
    let ops = document_operations();
    for (id, method, path) in &ops {
        assert!(
            MATRIX.iter().any(|(op, _)| op == id),
            "{method} {path} ({id}) has no row in the authorization matrix (tests/api/authz.rs): \
             add one saying what each caller gets"
        );
    }
    for (op, _) in MATRIX {
        assert!(
            ops.iter().any(|(id, ..)| id == op),
            "the matrix row `{op}` names no operation of the document"
        );
    }
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_matrix_says() {
    // The matrix logs in dozens of times: it tests who may call, not the login throttle.
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.login_per_email_per_minute = 10_000;
        s.rate_limits.login_per_ip_per_minute = 10_000;
        crate::authz_live::allow_receivers(s);
    })
    .await;
    let w = World::new(&app).await;
    let ops = document_operations();
    let mut failures = Vec::new();
    let mut n = 0;
    for (op, expected) in MATRIX {
        let (_, method, template) = ops
            .iter()
            .find(|(id, ..)| id == op)
            .expect("rows name operations (checked by the other test)");
        for (caller, want) in CALLERS.iter().zip(expected) {
            n += 1;
            let c = arrange(&app, &w, op, n).await;
            assert_eq!(
                &c.method.to_string(),
                method,
                "{op}: arrange uses the wrong method"
            );
            assert!(
                path_matches(template, &c.path),
                "{op}: arranged {} for {template}",
                c.path
            );
            let (owner, other) = if c.owner_is_creative {
                (&w.creative, &w.client)
            } else {
                (&w.client, &w.creative)
            };
            let before = probe(&app, &c, owner).await;
            let mut req = app.request(c.method.clone(), &c.path, None);
            if let Some(token) = w.token(*caller, owner, other) {
                req = req.bearer_auth(token);
            }
            if let Some(body) = &c.body {
                req = req.json(body);
            }
            for (name, value) in &c.headers {
                req = req.header(*name, value);
            }
            if c.upload {
                let part = reqwest::multipart::Part::bytes(b"a file".to_vec()).file_name("a.txt");
                req = req.multipart(reqwest::multipart::Form::new().part("file", part));
            }
            let res = req.send().await.unwrap();
            let got = res.status().as_u16();
            if got != *want {
                let body = res.text().await.unwrap_or_default();
                failures.push(format!(
                    "{op} as {caller:?}: expected {want}, got {got}: {body}"
                ));
                continue;
            }
            if got >= 400 {
                assert_eq!(
                    probe(&app, &c, owner).await,
                    before,
                    "{op} as {caller:?}: a refused call changed the resource"
                );
            }
            if got == 404 || got == 403 {
                // A refusal shows nothing of the resource: only the problem fields.
                let body: Value = res.json().await.unwrap();
                let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
                for k in keys {
                    assert!(
                        ["type", "title", "status", "detail", "code"].contains(&k.as_str()),
                        "{op} as {caller:?}: refusal carries `{k}`"
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} calls disagree with the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The owner's view of what a call could change: its status and body (nothing for reads).
async fn probe(app: &TestApp, c: &Call, owner: &TestUser) -> Option<(u16, Value)> {
    let path = c.probe.as_ref().filter(|_| c.method != Method::GET)?;
    let res = app.get(path, &owner.token).await;
    Some((res.status().as_u16(), res.json().await.unwrap()))
}

fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

#[tokio::test]
async fn lists_never_show_an_outsider_anyone_elses_rows() {
    let app = TestApp::spawn().await;
    let w = World::new(&app).await;
    let order = app.order_in("in_progress", &w.client, &w.creative).await;
    for path in [
        "/v1/orders",
        "/v1/orders?role=client",
        "/v1/orders?role=creative",
        "/v1/orders?status=in_progress",
    ] {
        let page: Value = app.get(path, &w.outsider.token).await.json().await.unwrap();
        assert_eq!(page["data"], json!([]), "{path} shows the outsider rows");
        let mine: Value = app.get(path, &w.client.token).await.json().await.unwrap();
        let role_filtered_out = path.ends_with("creative");
        let ids: Vec<&str> = mine["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids.contains(&order.as_str()),
            !role_filtered_out,
            "{path} for the client"
        );
    }
    let history = app
        .get(
            &format!("/v1/orders/{order}/transitions"),
            &w.outsider.token,
        )
        .await;
    assert_eq!(history.status(), StatusCode::NOT_FOUND);
    let dashboard: Value = app
        .get("/v1/dashboard", &w.outsider.token)
        .await
        .json()
        .await
        .unwrap();
    let counted: i64 = ["as_client", "as_creative"]
        .iter()
        .flat_map(|role| {
            dashboard[role]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
        })
        .map(|v| v.as_i64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 0, "the outsider's dashboard counts others' orders");
}
