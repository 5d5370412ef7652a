//! What utoipa's derives cannot say, applied once to the merged document: list items as `$ref`s to
//! their named schema, the shared request headers defined in one place, `413` on every operation that
//! takes a body, and the links that let a client (or a fuzzer) walk from a resource to what it owns.

mod links;
mod webhooks;

use links::add_links;
use serde_json::{json, Map, Value};

use super::extract::{IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn finish(doc: &mut Value) {
    page_items_by_ref(doc);
    if let Some(amount) = doc.pointer_mut("/components/schemas/MoneyDto/properties/amount") {
        amount["maximum"] = json!(crate::domain::money::Money::MAX_MINOR_UNITS);
    }
    invoice_amounts(doc);
    for_each_operation(doc, |op| {
        shared_headers(op);
        cursor_parameter(op);
        body_limits(op);
    });
    custom_or_service_order(doc);
    event_envelope(doc);
    webhooks::webhooks_section(doc);
    transition_notes(doc);
    add_links(doc);
}

/// Amounts inside an invoice are plain integers bounded like every price (utoipa reads a `maximum`
/// as an i32), and a discount is exactly one of its two forms.
fn invoice_amounts(doc: &mut Value) {
    let max = json!(crate::domain::billing::totals::MAX_AMOUNT);
    if let Some(unit) =
        doc.pointer_mut("/components/schemas/LineItemRequest/properties/unit_amount")
    {
        unit["maximum"] = max.clone();
    }
    if let Some(discount) = doc.pointer_mut("/components/schemas/DiscountDto") {
        discount["minProperties"] = json!(1);
        discount["maxProperties"] = json!(1);
        discount["properties"]["amount_off"]["type"] = json!("integer");
        discount["properties"]["amount_off"]["maximum"] = max;
        discount["properties"]["percent_off_bps"]["type"] = json!("integer");
    }
}

fn for_each_operation(doc: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                f(op);
            }
        }
    }
}

/// utoipa inlines `T` into `Page_T`; generated clients then get a copy of every resource model per
/// list. Point the items at the named schema instead.
fn page_items_by_ref(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let pages: Vec<String> = schemas
        .keys()
        .filter(|k| k.starts_with("Page_"))
        .cloned()
        .collect();
    for page in pages {
        let item = &page["Page_".len()..];
        if !schemas.contains_key(item) {
            continue;
        }
        if let Some(items) = schemas
            .get_mut(&page)
            .and_then(|p| p.pointer_mut("/properties/data/items"))
        {
            *items = json!({ "$ref": format!("#/components/schemas/{item}") });
        }
    }
}

/// The one definition of each shared header parameter. Headers are strings, never null; the
/// patterns are the grammars the extractors apply.
fn shared_header(name: &str) -> Option<Value> {
    match name {
        "If-Match" => Some(json!({
            "name": "If-Match",
            "in": "header",
            "required": false,
            "description": "The `ETag` last seen (e.g. `\"3\"`), to refuse the write with 412 if the \
                resource changed since; `*` or no header means whatever is current, and an empty value \
                matches no version.",
            "schema": {"type": "string", "pattern": IF_MATCH_PATTERN, "maxLength": 22},
            "example": "\"1\"",
        })),
        "Idempotency-Key" => Some(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "1 to 255 visible ASCII characters of the caller's choosing. A retry with \
                the same key and body within 24 h replays the first response instead of acting twice.",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN, "maxLength": 255},
            "example": "order-7f3c1a",
        })),
        "Range" => Some(json!({
            "name": "Range",
            "in": "header",
            "required": false,
            "description": "One byte range, `bytes=first-last`, `bytes=first-` or `bytes=-suffix`; \
                anything else (several ranges included) is served whole.",
            "schema": {"type": "string", "maxLength": crate::http::attachments::MAX_RANGE_HEADER},
            "example": "bytes=0-1023",
        })),
        "Last-Event-ID" => Some(json!({
            "name": "Last-Event-ID",
            "in": "header",
            "required": false,
            "description": "The `id` of the last event received (EventSource sends it when it \
                reconnects): the stream resumes after it. Anything that is not the id of one of your \
                events from the last 24 h replays those 24 h.",
            "schema": {"type": "string", "maxLength": 64},
            "example": "0193a0a4-7000-7c41-9a0e-2f1b7c9d8e10",
        })),
        _ => None,
    }
}

/// What a required `If-Match` takes: one version, quoted, optionally weak.
const REQUIRED_IF_MATCH_PATTERN: &str = r#"^(W/)?"[0-9]{1,18}"$"#;

fn shared_headers(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for param in params {
        let is_header = param.get("in").and_then(Value::as_str) == Some("header");
        let required = param.get("required") == Some(&Value::Bool(true));
        let name = param.get("name").and_then(Value::as_str);
        let canonical = match name {
            // Where a write must name the version it is based on: no `*`, no empty list.
            Some("If-Match") if required => Some(json!({
                "name": "If-Match",
                "in": "header",
                "required": true,
                "description": "The `ETag` of what is being accepted (e.g. `\"2\"`); without it, 428; \
                    412 if it is no longer current.",
                "schema": {"type": "string", "pattern": REQUIRED_IF_MATCH_PATTERN, "maxLength": 22},
                "example": "\"1\"",
            })),
            // Where the request moves money: no key, no request (400).
            Some("Idempotency-Key") if required => Some(json!({
                "name": "Idempotency-Key",
                "in": "header",
                "required": true,
                "description": "Required: this request moves money. 1 to 255 visible ASCII characters \
                    of the caller's choosing; send the same one on a retry. The same key and body within \
                    24 h replay the first response (status included); without a key, 400.",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN, "maxLength": 255},
                "example": "pay-7f3c1a",
            })),
            _ => name.and_then(shared_header),
        };
        if let (true, Some(canonical)) = (is_header, canonical) {
            *param = canonical;
        }
    }
}

/// `?cursor=` is opaque, but its alphabet and length are not: say them, so clients and fuzzers do not
/// send what can never be a cursor.
fn cursor_parameter(op: &mut Map<String, Value>) {
    let params = op.get_mut("parameters").and_then(Value::as_array_mut);
    for param in params.into_iter().flatten() {
        if param.get("name").and_then(Value::as_str) == Some("cursor") {
            param["schema"] = json!({
                "type": "string",
                "pattern": super::pagination::CURSOR_PATTERN,
                "maxLength": super::pagination::MAX_CURSOR_LEN,
            });
        }
    }
}

fn body_limits(op: &mut Map<String, Value>) {
    if !op.contains_key("requestBody") {
        return;
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry("408")
            .or_insert_with(|| json!({"$ref": "#/components/responses/RequestTimeout"}));
        responses
            .entry("413")
            .or_insert_with(|| json!({"$ref": "#/components/responses/PayloadTooLarge"}));
    }
}

/// An order is placed either from a service or as a custom order, never a mix: say so with `oneOf`,
/// built from the derived schema's own properties. The server reads a `null` field as absent, so each
/// variant allows the other's fields as `null`.
fn custom_or_service_order(doc: &mut Value) {
    let Some(schema) = doc.pointer_mut("/components/schemas/CreateOrderRequest") else {
        return;
    };
    let props = schema["properties"].clone();
    let non_null = |name: &str| strip_null(&props[name]);
    let null = json!({"type": "null"});
    let custom_only = [
        "creative_id",
        "title",
        "price",
        "due_at",
        "revisions_included",
    ];
    let mut service = json!({
        "service_id": non_null("service_id"),
        "requirements": props["requirements"].clone(),
    });
    for name in custom_only {
        service[name] = null.clone();
    }
    // Not `json!({"service_id": null})`: inside the macro `null` is JSON null, not this schema.
    let mut custom = json!({"requirements": props["requirements"].clone()});
    custom["service_id"] = null.clone();
    for name in custom_only {
        custom[name] = non_null(name);
    }
    custom["revisions_included"] = props["revisions_included"].clone();
    let variant = |title: &str, required: &[&str], properties: Value| {
        json!({"title": title, "type": "object", "additionalProperties": false,
            "required": required, "properties": properties})
    };
    let object = schema.as_object_mut().expect("a schema is an object");
    for key in ["type", "properties", "required", "additionalProperties"] {
        object.remove(key);
    }
    object.insert(
        "oneOf".into(),
        json!([
            variant("ServiceOrder", &["service_id", "requirements"], service),
            variant(
                "CustomOrder",
                &["creative_id", "title", "requirements", "price", "due_at"],
                custom
            ),
        ]),
    );
}

/// A property schema without its `null` alternative (`["string", "null"]` or `oneOf` with null).
fn strip_null(schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Some(types) = s.get_mut("type").and_then(Value::as_array_mut) {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            s["type"] = types[0].clone();
        }
    }
    if let Some(one_of) = s.get("oneOf").and_then(Value::as_array) {
        let rest: Vec<&Value> = one_of.iter().filter(|v| v["type"] != "null").collect();
        if let [only] = rest.as_slice() {
            return (*only).clone();
        }
    }
    s
}

/// The envelope every event travels in (outbox, email data, webhooks, live stream), with `data`
/// named per event type; the payload schemas come from `domain::events`.
fn event_envelope(doc: &mut Value) {
    use crate::domain::events::Event;
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let payloads = [
        "OrderPlaced",
        "OrderUpdated",
        "OrderStatusChanged",
        "CancellationRequested",
        "CancellationRejected",
        "PasswordResetRequested",
        "MessagePosted",
        "EmailVerificationRequested",
        "PaymentTermsProposed",
        "PaymentTermsAccepted",
        "InvoiceSent",
        "InvoiceClosed",
        "InvoiceClosed",
        "InvoicePaid",
        "ReviewPublished",
        "SupportTicketReplied",
        "SupportTicketResolved",
        "OrderDueDateExtended",
        "PaymentSucceeded",
        "PaymentFailed",
        "RefundSucceeded",
        "PayoutPaid",
        "WebhookEndpointDisabled",
    ];
    let variants: Vec<Value> = Event::NAMES
        .iter()
        .zip(payloads)
        .map(|(name, payload)| {
            json!({"type": "object", "required": ["type", "data"], "properties": {
                "type": {"const": name},
                "data": {"$ref": format!("#/components/schemas/{payload}")},
            }})
        })
        .collect();
    schemas.insert(
        "Event".into(),
        json!({
            "description": "What happened, as email, webhooks and the live stream publish it. \
                Receivers de-duplicate on `id`; delivery is at least once.",
            "type": "object",
            "required": ["id", "type", "created_at", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "type": {"type": "string", "enum": Event::NAMES},
                "created_at": {"type": "string", "format": "date-time"},
                "data": {"type": "object"},
            },
            "oneOf": variants,
        }),
    );
}

/// Declining and disputing need a reason: the document says so with `if`/`then`, from the rule the
/// state machine applies.
fn transition_notes(doc: &mut Value) {
    use crate::domain::order::{requires_note, OrderStatus};
    let Some(schema) = doc.pointer_mut("/components/schemas/TransitionRequest") else {
        return;
    };
    let needing: Vec<&str> = OrderStatus::ALL
        .into_iter()
        .filter(|s| requires_note(*s))
        .map(|s| s.as_str())
        .collect();
    let reason = crate::domain::text::TextRule {
        min: 1,
        ..crate::domain::text::NOTE
    };
    schema["if"] = json!({"required": ["to"], "properties": {"to": {"enum": needing}}});
    schema["then"] = json!({"required": ["note"],
        "properties": {"note": {"type": "string", "pattern": reason.pattern()}}});
}
