//! The document's OpenAPI 3.1 `webhooks` section: one entry per event type a webhook carries, with
//! its payload schema, so integrators generate their receivers' types as they generate the client.
//! utoipa 5 does not emit this section, so it is written here from `domain::webhooks`.

use serde_json::{json, Map, Value};

use crate::domain::events::Event;
use crate::domain::webhooks::deliverable;

/// How to verify a delivery, in the words every entry shares.
pub const VERIFY: &str = "Each delivery is a `POST` of the event's envelope as JSON, with \
`CreateSpace-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`: Stripe's scheme. To verify it, \
compute HMAC-SHA256 with your endpoint's secret over the timestamp, a `.`, and the raw body, and \
compare it in constant time with each `v1` value (two during a secret rotation); refuse timestamps \
more than 5 minutes from your clock. In Python:\n\n\
```python\nimport hmac, hashlib, time\n\
def verify(secret: str, header: str, body: bytes) -> bool:\n\
    parts = [p.split('=', 1) for p in header.split(',')]\n\
    t = next(v for k, v in parts if k == 't')\n\
    expected = hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()\n\
    fresh = abs(time.time() - int(t)) <= 300\n\
    return fresh and any(hmac.compare_digest(expected, v) for k, v in parts if k == 'v1')\n```\n\n\
Answer with any 2xx within 15 seconds. Anything else (or no answer) is retried with exponential \
backoff; an endpoint failing for 3 days is disabled and its owner emailed. Delivery is at least \
once and in no guaranteed order: de-duplicate on the envelope's `id` (also sent as \
`CreateSpace-Event-Id`).";

/// Adds `webhooks` to the document.
pub fn webhooks_section(doc: &mut Value) {
    let payloads: Map<String, Value> = doc
        .pointer("/components/schemas/Event/oneOf")
        .and_then(Value::as_array)
        .map(|variants| {
            variants
                .iter()
                .filter_map(|v| {
                    let name = v.pointer("/properties/type/const")?.as_str()?;
                    Some((name.to_string(), v.pointer("/properties/data")?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut hooks = Map::new();
    for name in deliverable() {
        let Some(data) = payloads.get(name) else {
            continue;
        };
        hooks.insert(name.to_string(), entry(name, data));
    }
    doc["webhooks"] = Value::Object(hooks);
    debug_assert_eq!(Event::NAMES.len(), payloads.len());
}

fn entry(name: &str, data: &Value) -> Value {
    let operation = format!(
        "on{}",
        name.split(['.', '_'])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<String>()
    );
    json!({"post": {
        "operationId": operation,
        "summary": format!("`{name}`"),
        "description": VERIFY,
        "tags": ["webhooks"],
        "parameters": [
            {"name": "CreateSpace-Signature", "in": "header", "required": true,
             "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">`; two `v1` values while a secret rotates",
             "schema": {"type": "string"}},
            {"name": "CreateSpace-Event-Id", "in": "header", "required": true,
             "description": "The envelope's `id`, to de-duplicate on", "schema": {"type": "string", "format": "uuid"}},
            {"name": "CreateSpace-Event-Type", "in": "header", "required": true,
             "schema": {"type": "string", "const": name}},
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["id", "type", "created_at", "data"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "type": {"const": name},
                "created_at": {"type": "string", "format": "date-time"},
                "data": data,
            },
        }}}},
        "responses": {
            "2XX": {"description": "Received. The body is ignored (its first kilobyte is kept in the delivery log)."},
            "default": {"description": "Not received: the delivery is retried."},
        },
    }})
}
