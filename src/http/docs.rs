//! The OpenAPI document: metadata, the bearer scheme, the problem+json responses every operation
//! reuses, and the merge of each controller's own paths.

use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::{FieldError, ProblemDetails, PROBLEM_JSON};
use crate::domain::events;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "createspace API",
        description = "Order management for the CreateSpace creative-services marketplace: clients order \
design, writing, video and music work from creatives.\n\n\
Conventions: JSON in snake_case; ids are UUIDv7; timestamps RFC 3339 UTC; money is \
`{\"amount\": <integer minor units>, \"currency\": \"<ISO 4217>\"}`; lists take `limit` and `cursor` and \
return `{\"data\": [...], \"next_cursor\": ...}`; every error is `application/problem+json` (RFC 9457) \
with a stable `code`; writes take `If-Match: \"<version>\"` and responses carry `ETag`.",
        version = "1.0.0",
        contact(name = "CreateSpace support", email = "contact@tristetix.com"),
    ),
    components(
        schemas(
            ProblemDetails, FieldError,
            events::OrderPlaced, events::OrderUpdated, events::OrderStatusChanged,
            events::CancellationRequested, events::CancellationRejected, events::RejectionReason,
            events::PasswordResetRequested, events::MessagePosted, events::EventPrice,
            events::EmailVerificationRequested, events::PaymentTermsProposed,
            events::PaymentTermsAccepted, events::InvoiceSent, events::InvoiceClosed,
            events::InvoicePaid, events::ReviewPublished, events::SupportTicketReplied,
            events::SupportTicketResolved, events::OrderDueDateExtended, events::PaymentSucceeded,
            events::PaymentFailed, events::RefundSucceeded, events::PayoutPaid, events::WebhookEndpointDisabled
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, AdminOnly, EmailUnverified, NotFound, Conflict, PreconditionFailed,
            PreconditionRequired,
            PayloadTooLarge, RequestTimeout, UnsupportedMediaType, ValidationFailed, RateLimited, ServiceUnavailable
        )
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Registration, login and token refresh"),
        (name = "me", description = "The caller's own account"),
        (name = "services", description = "What creatives offer"),
        (name = "orders", description = "Orders, their status transitions and history"),
        (name = "messages", description = "Each order's thread: messages, files, read markers"),
        (name = "deliveries", description = "Work handed over on an order"),
        (name = "dashboard", description = "Per-user counters"),
        (name = "billing", description = "Payment terms, invoices and billing details"),
        (name = "payments", description = "Paying invoices through the platform, escrow, refunds, balances and payouts"),
        (name = "reviews", description = "Reviews after completion, and public profiles"),
        (name = "notifications", description = "The in-app inbox and notification preferences"),
        (name = "support", description = "Support tickets: users reach the support team"),
        (name = "events", description = "The live event stream (Server-Sent Events)"),
        (name = "webhooks", description = "Integrators' endpoints: every event as a signed POST; see the document's `webhooks` section"),
        (name = "admin", description = "The support team's tools (admins only)"),
    )
)]
struct Root;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from `POST /v1/auth/login` or `/v1/auth/register`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document, as served and as committed in `openapi/openapi.json`. A JSON value rather
/// than utoipa's model, because the finishing pass adds what that model cannot hold.
pub fn openapi() -> serde_json::Value {
    let mut doc = Root::openapi();
    for part in [
        super::health::Api::openapi(),
        super::auth::Api::openapi(),
        super::me::Api::openapi(),
        super::services::Api::openapi(),
        super::orders::Api::openapi(),
        super::orders::transitions::Api::openapi(),
        super::orders::cancellations::Api::openapi(),
        super::orders::messages::Api::openapi(),
        super::orders::deliveries::Api::openapi(),
        super::orders::payment_terms::Api::openapi(),
        super::invoices::Api::openapi(),
        super::reviews::Api::openapi(),
        super::attachments::Api::openapi(),
        super::dashboard::Api::openapi(),
        super::notifications::Api::openapi(),
        super::support::Api::openapi(),
        super::payments::Api::openapi(),
        super::admin::dead_letters::Api::openapi(),
        super::admin::tickets::Api::openapi(),
        super::admin::users::Api::openapi(),
        super::admin::orders::Api::openapi(),
        super::admin::audit_log::Api::openapi(),
        super::events::Api::openapi(),
        super::webhooks::Api::openapi(),
    ] {
        doc.merge(part);
    }
    let mut value = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    super::docs_finish::finish(&mut value);
    value
}

/// The document, built once per process.
pub fn served() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(openapi)
}

/// The document as this instance serves it: its contact is the configured `SUPPORT_EMAIL`.
pub fn served_for(support_email: &str) -> std::borrow::Cow<'static, serde_json::Value> {
    let doc = served();
    if doc["info"]["contact"]["email"] == support_email {
        return std::borrow::Cow::Borrowed(doc);
    }
    let mut doc = doc.clone();
    doc["info"]["contact"]["email"] = json!(support_email);
    std::borrow::Cow::Owned(doc)
}

fn problem_response(description: &str, example: serde_json::Value) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ProblemDetails")))
                .example(Some(example))
                .build(),
        )
        .build()
        .into()
}

macro_rules! problem {
    ($name:ident, $status:expr, $code:expr, $title:expr, $description:expr, $detail:expr $(, $extra:tt)?) => {
        pub struct $name;
        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                #[allow(unused_mut)]
                let mut example = json!({
                    "type": format!("/problems/{}", $code.replace('_', "-")),
                    "title": $title,
                    "status": $status,
                    "detail": $detail,
                    "code": $code,
                });
                $( if let (Some(map), serde_json::Value::Object(extra)) = (example.as_object_mut(), json!($extra)) { map.extend(extra); } )?
                (stringify!($name), problem_response($description, example))
            }
        }
    };
}

problem!(
    BadRequest,
    400,
    "malformed_json",
    "Malformed request",
    "The request is malformed: invalid JSON, a bad path or query parameter, or a bad header.",
    "The request body is not valid JSON: EOF while parsing an object at line 1 column 12"
);
problem!(
    Unauthorized,
    401,
    "unauthorized",
    "Authentication required",
    "No, expired or invalid credentials. The response carries `WWW-Authenticate: Bearer`.",
    "A valid bearer access token is required."
);
problem!(
    Forbidden,
    403,
    "forbidden",
    "Not allowed",
    "The caller takes part in the resource but may not do this.",
    "Your role on this order does not allow this move."
);
problem!(
    AdminOnly,
    403,
    "admin_only",
    "Not allowed",
    "The caller is signed in but not a member of the support team (`admin_only`); or is, but acts \
     on their own account (`own_account`), ticket (`own_ticket`) or an order they are a party to \
     (`own_order`): another member of the team does.",
    "Only the support team may do this."
);
problem!(
    EmailUnverified,
    403,
    "email_unverified",
    "Not allowed",
    "The caller's email address is not verified (when `REQUIRE_EMAIL_VERIFICATION` is on): placing \
     orders and publishing services need a verified address.",
    "Verify your email address first: follow the link we sent you, or ask for a new one with POST /v1/auth/verify-email/resend."
);
problem!(
    NotFound,
    404,
    "not_found",
    "Not found",
    "The resource does not exist, or is not visible to the caller.",
    "No such order, or it is not visible to you."
);
problem!(Conflict, 409, "invalid_transition", "Transition not allowed",
    "The request conflicts with the resource's current state.",
    "An order in status `new` cannot move to `completed`.",
    {"current_status": "new", "allowed_transitions": ["cancelled"]});
problem!(PreconditionFailed, 412, "precondition_failed", "The resource has changed",
    "`If-Match` names a version that is no longer current.",
    "If-Match does not match the current version 4; fetch the resource and retry.",
    {"current_version": 4});
problem!(
    PreconditionRequired,
    428,
    "precondition_required",
    "If-Match required",
    "This write must name the version it was based on: send `If-Match` with the `ETag` you read \
     (`*` does not do).",
    "Send `If-Match` with the version you read (its `ETag`), e.g. `If-Match: \"3\"`."
);
problem!(
    PayloadTooLarge,
    413,
    "payload_too_large",
    "Request body too large",
    "The request body exceeds the size limit.",
    "The request body exceeds the size limit."
);
problem!(
    RequestTimeout,
    408,
    "request_timeout",
    "Request body too slow",
    "The request body did not arrive within the server's deadline (`REQUEST_BODY_TIMEOUT`).",
    "The request body did not arrive in time; send it again."
);
problem!(
    UnsupportedMediaType,
    415,
    "unsupported_media_type",
    "Unsupported media type",
    "The request body is not `application/json`.",
    "Send the request body as `Content-Type: application/json`."
);
problem!(ValidationFailed, 422, "validation_failed", "The request is invalid",
    "The request is well-formed but some fields are invalid; `errors` names each.",
    "1 field failed validation; see `errors`.",
    {"errors": [{"field": "email", "code": "invalid_email", "message": "is not a valid email address"}]});
problem!(
    RateLimited,
    429,
    "rate_limited",
    "Too many requests",
    "Too many attempts. The response carries `Retry-After` in seconds.",
    "Too many attempts; retry after 42 seconds."
);
problem!(
    ServiceUnavailable,
    503,
    "service_unavailable",
    "Service unavailable",
    "A dependency (the database) is unavailable, or a bounded queue (password hashing) is full; \
     `Retry-After` says when to try again when the server knows.",
    "A dependency (the database) is unavailable; retry shortly."
);

/// The committed document's path, relative to the crate root.
pub const COMMITTED_PATH: &str = "openapi/openapi.json";

pub fn to_pretty_json() -> String {
    let mut s = serde_json::to_string_pretty(&openapi()).expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
