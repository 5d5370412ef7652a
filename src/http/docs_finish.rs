//! What utoipa's derives cannot say, applied once to the merged document: list items as `$ref`s to
//! their named schema, the shared request headers defined in one place, `413` on every operation that
//! takes a body, and the links that let a client (or a fuzzer) walk from a resource to what it owns.

use serde_json::{json, Map, Value};

use super::extract::{IDEMPOTENCY_KEY_PATTERN, IF_MATCH_PATTERN};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn finish(doc: &mut Value) {
    page_items_by_ref(doc);
    if let Some(amount) = doc.pointer_mut("/components/schemas/MoneyDto/properties/amount") {
        amount["maximum"] = json!(crate::domain::money::Money::MAX_MINOR_UNITS);
    }
    for_each_operation(doc, |op| {
        shared_headers(op);
        payload_too_large(op);
    });
    add_links(doc);
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
                resource changed since; `*` or no header means whatever is current.",
            "schema": {"type": "string", "pattern": IF_MATCH_PATTERN},
            "example": "\"1\"",
        })),
        "Idempotency-Key" => Some(json!({
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "1 to 255 visible ASCII characters of the caller's choosing. A retry with \
                the same key and body within 24 h replays the first response instead of acting twice.",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            "example": "order-7f3c1a",
        })),
        _ => None,
    }
}

fn shared_headers(op: &mut Map<String, Value>) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for param in params {
        let is_header = param.get("in").and_then(Value::as_str) == Some("header");
        let canonical = param
            .get("name")
            .and_then(Value::as_str)
            .and_then(shared_header);
        if let (true, Some(canonical)) = (is_header, canonical) {
            *param = canonical;
        }
    }
}

fn payload_too_large(op: &mut Map<String, Value>) {
    if !op.contains_key("requestBody") {
        return;
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        responses
            .entry("413")
            .or_insert_with(|| json!({"$ref": "#/components/responses/PayloadTooLarge"}));
    }
}

/// Where an order's id is found in a response that is an order.
const ORDER_ID: &str = "$response.body#/id";

/// Named links to add to one response.
type Links = Vec<(&'static str, Value)>;

/// (from operation, its status, links to add).
fn link_table() -> Vec<(&'static str, &'static str, Links)> {
    let order_ops = |id: &'static str| {
        vec![
            ("GetOrder", link("getOrder", id)),
            ("UpdateOrder", link("updateOrder", id)),
            ("ListOrderTransitions", link("listOrderTransitions", id)),
            ("CreateOrderTransition", link("createOrderTransition", id)),
            ("GetCancellationRequest", link("getCancellationRequest", id)),
            (
                "CreateCancellationRequest",
                link("createCancellationRequest", id),
            ),
            (
                "RespondToCancellationRequest",
                link("respondToCancellationRequest", id),
            ),
        ]
    };
    let service_ops = |id: &'static str| {
        vec![
            ("GetService", link("getService", id)),
            ("UpdateService", link("updateService", id)),
            ("ArchiveService", link("archiveService", id)),
            (
                "OrderService",
                link_body(
                    "createOrder",
                    json!({"service_id": id, "requirements": "As described in the service."}),
                ),
            ),
        ]
    };
    vec![
        ("createOrder", "201", order_ops(ORDER_ID)),
        ("getOrder", "200", order_ops(ORDER_ID)),
        ("updateOrder", "200", order_ops(ORDER_ID)),
        ("createOrderTransition", "200", order_ops(ORDER_ID)),
        ("listOrders", "200", order_ops("$response.body#/data/0/id")),
        (
            "createCancellationRequest",
            "201",
            order_ops("$response.body#/order_id"),
        ),
        ("createService", "201", service_ops(ORDER_ID)),
        ("getService", "200", service_ops(ORDER_ID)),
        (
            "listServices",
            "200",
            service_ops("$response.body#/data/0/id"),
        ),
    ]
}

fn link(operation_id: &str, id: &str) -> Value {
    json!({"operationId": operation_id, "parameters": {"id": id}})
}

fn link_body(operation_id: &str, body: Value) -> Value {
    json!({"operationId": operation_id, "requestBody": body})
}

fn add_links(doc: &mut Value) {
    let table = link_table();
    for_each_operation(doc, |op| {
        let Some(id) = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(String::from)
        else {
            return;
        };
        for (from, status, links) in table.iter().filter(|(from, ..)| *from == id) {
            let response = op
                .get_mut("responses")
                .and_then(|r| r.get_mut(*status))
                .and_then(Value::as_object_mut);
            let Some(response) = response else {
                panic!("link table: {from} has no {status} response");
            };
            let map = response
                .entry("links")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("links is an object");
            for (name, link) in links {
                map.insert((*name).to_string(), link.clone());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_link_targets_an_operation_of_the_document() {
        let doc = crate::http::docs::openapi();
        let mut ids = Vec::new();
        let mut targets = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                ids.push(op["operationId"].as_str().unwrap().to_string());
                for response in op["responses"].as_object().unwrap().values() {
                    for link in response["links"]
                        .as_object()
                        .into_iter()
                        .flat_map(|l| l.values())
                    {
                        targets.push(link["operationId"].as_str().unwrap().to_string());
                    }
                }
            }
        }
        assert!(!targets.is_empty());
        for t in targets {
            assert!(ids.contains(&t), "link to unknown operation {t}");
        }
    }
}
