//! Response links: from each created or read resource to the operations on it, so a client (or a
//! fuzzer) can walk the API from what it gets back.

use serde_json::{json, Value};

use super::for_each_operation;

/// Where a created or read resource's id is found in its response.
const RESPONSE_ID: &str = "$response.body#/id";

/// Named links to add to one response.
type Links = Vec<(&'static str, Value)>;

/// (from operation, its status, links to add).
fn link_table() -> Vec<(&'static str, &'static str, Links)> {
    let order_ops = |id: &'static str| -> Links {
        vec![
            ("GetOrder", link("getOrder", id)),
            ("UpdateOrder", link("updateOrder", id)),
            ("ListOrderTransitions", link("listOrderTransitions", id)),
            ("CreateOrderTransition", link("createOrderTransition", id)),
            (
                "CreateCancellationRequest",
                link("createCancellationRequest", id),
            ),
        ]
    };
    // Only once a request exists: a new order has none.
    let request_ops = |id: &'static str| -> Links {
        vec![
            ("GetCancellationRequest", link("getCancellationRequest", id)),
            (
                "RespondToCancellationRequest",
                link("respondToCancellationRequest", id),
            ),
        ]
    };
    let service_ops = |id: &'static str| -> Links {
        vec![
            ("GetService", link("getService", id)),
            ("UpdateService", link("updateService", id)),
            ("ArchiveService", link("archiveService", id)),
            (
                "OrderService",
                link_body(
                    "createOrder",
                    &json!({"service_id": id, "requirements": "As described in the service."}),
                ),
            ),
        ]
    };
    let session_ops = || -> Links {
        let body = json!({"refresh_token": "$response.body#/refresh_token"});
        vec![
            ("RefreshToken", link_body("refreshToken", &body)),
            ("Logout", link_body("logout", &body)),
        ]
    };
    let first_item = "$response.body#/data/0/id";
    vec![
        ("register", "201", session_ops()),
        ("login", "200", session_ops()),
        ("refreshToken", "200", session_ops()),
        ("createOrder", "201", order_ops(RESPONSE_ID)),
        ("getOrder", "200", order_ops(RESPONSE_ID)),
        ("updateOrder", "200", order_ops(RESPONSE_ID)),
        ("createOrderTransition", "200", order_ops(RESPONSE_ID)),
        ("listOrders", "200", order_ops(first_item)),
        (
            "createCancellationRequest",
            "201",
            request_ops("$response.body#/order_id"),
        ),
        ("createService", "201", service_ops(RESPONSE_ID)),
        ("getService", "200", service_ops(RESPONSE_ID)),
        ("listServices", "200", service_ops(first_item)),
    ]
}

fn link(operation_id: &str, id: &str) -> Value {
    json!({"operationId": operation_id, "parameters": {"id": id}})
}

fn link_body(operation_id: &str, body: &Value) -> Value {
    json!({"operationId": operation_id, "requestBody": body})
}

pub(super) fn add_links(doc: &mut Value) {
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
