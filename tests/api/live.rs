//! The live event stream: fan-out across server processes through PostgreSQL, resuming after
//! `Last-Event-ID` without loss or repeat, tickets, and who hears what.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json_ok, problem, OtherProcess, TestApp, TestUser};

/// One event as the stream sent it.
#[derive(Debug)]
struct Sse {
    id: String,
    event: String,
    data: Value,
}

/// Reads a `text/event-stream` body event by event.
struct Stream {
    response: Response,
    buffer: String,
}

impl Stream {
    async fn open(app: &TestApp, user: &TestUser, last_event_id: Option<&str>) -> Stream {
        let mut req = app.request(Method::GET, "/v1/events", Some(&user.token));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        Self::from(req.send().await.unwrap()).await
    }

    async fn from(response: Response) -> Stream {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut stream = Stream {
            response,
            buffer: String::new(),
        };
        // The preamble arrives at once: the stream is subscribed when this returns.
        let first = stream
            .block(Duration::from_secs(10))
            .await
            .expect("preamble");
        assert!(first.contains(": connected"), "{first}");
        stream
    }

    /// The next blank-line-terminated block, or `None` after `wait`.
    async fn block(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_string();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event (heartbeats skipped), or `None` after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let block = self.block(left).await?;
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                    .map(str::to_string)
            };
            if let (Some(id), Some(event), Some(data)) =
                (field("id"), field("event"), field("data"))
            {
                return Some(Sse {
                    id,
                    event,
                    data: serde_json::from_str(&data).unwrap(),
                });
            }
        }
    }

    /// The next `n` messages, passing over the order's own earlier events: a stream opened while
    /// some older transaction was still running starts at that transaction (nothing can be lost
    /// behind it), so it may hear the order's placement committed just before it opened.
    async fn take_messages(&mut self, n: usize) -> Vec<Sse> {
        let mut out = Vec::new();
        while out.len() < n {
            let e = self.next(Duration::from_secs(10)).await;
            let e = e.unwrap_or_else(|| panic!("only {} of {n} messages arrived", out.len()));
            if e.event != "order.placed" {
                out.push(e);
            }
        }
        out
    }

    /// The next `n` events; fails if they do not come within 10 s.
    async fn take(&mut self, n: usize) -> Vec<Sse> {
        let mut out = Vec::new();
        while out.len() < n {
            let e = self.next(Duration::from_secs(10)).await;
            out.push(
                e.unwrap_or_else(|| panic!("only {} of {n} events arrived: {out:?}", out.len())),
            );
        }
        out
    }
}

fn message_ids(events: &[Sse]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            assert_eq!(e.event, "message.posted");
            assert_eq!(
                e.data["id"].as_str().unwrap(),
                e.id,
                "envelope id is the SSE id"
            );
            e.data["data"]["message_id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_stream_hears_of_a_message_posted_through_another_process_and_resumes_without_loss_or_repeat(
) {
    let app = TestApp::spawn().await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let order = app.place_order(&client, &creative).await;
    let order = order["id"].as_str().unwrap();
    let other = OtherProcess::serve(&app).await;

    let mut stream = Stream::open(&app, &creative, None).await;
    let first = other
        .message(&app, &client, order, "first, through process B")
        .await;
    let heard = stream.take_messages(1).await;
    assert_eq!(message_ids(&heard), vec![first]);
    let last_seen = heard[0].id.clone();
    drop(stream);

    // Missed while disconnected, then resumed from the last event seen.
    let second = other.message(&app, &client, order, "second").await;
    let third = other.message(&app, &client, order, "third").await;
    let mut resumed = Stream::open(&app, &creative, Some(&last_seen)).await;
    let fourth = app
        .message(&client, order, &json!({"body": "fourth, live"}))
        .await;
    let fourth = json_ok(fourth, StatusCode::CREATED).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let replayed = resumed.take(3).await;
    assert_eq!(message_ids(&replayed), vec![second, third, fourth]);
    assert!(
        resumed.next(Duration::from_millis(1500)).await.is_none(),
        "nothing is sent twice"
    );
}

#[tokio::test]
async fn a_stream_carries_only_the_callers_events() {
    let app = TestApp::spawn().await;
    let client = app.register("client").await;
    let creative = app.register("creative").await;
    let stranger = app.register("stranger").await;
    let mut theirs = Stream::open(&app, &stranger, None).await;
    let mut mine = Stream::open(&app, &creative, None).await;

    let order = app.place_order(&client, &creative).await;
    let placed = mine.take(1).await;
    assert_eq!(placed[0].event, "order.placed");
    assert_eq!(placed[0].data["data"]["order_id"], order["id"]);
    assert!(theirs.next(Duration::from_millis(1500)).await.is_none());
}

#[tokio::test]
async fn a_ticket_opens_the_stream_once_and_nothing_else_does() {
    let app = TestApp::spawn().await;
    let creative = app.register("creative").await;
    let res = app
        .request(Method::POST, "/v1/events/ticket", Some(&creative.token))
        .send()
        .await
        .unwrap();
    let ticket = json_ok(res, StatusCode::CREATED).await["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let open = |q: String| {
        let url = app.url(&format!("/v1/events?ticket={q}"));
        app.client.get(url).send()
    };
    let first = open(ticket.clone()).await.unwrap();
    let mut stream = Stream::from(first).await;
    let client = app.register("client").await;
    app.place_order(&client, &creative).await;
    let first = stream.take(1).await;
    assert_eq!(first[0].event, "order.placed");
    let first_id = first[0].id.clone();

    // A browser reconnects with a new ticket and the last id it saw, as a query parameter.
    drop(stream);
    let second = app.place_order(&client, &creative).await;
    let res = app
        .request(Method::POST, "/v1/events/ticket", Some(&creative.token))
        .send()
        .await
        .unwrap();
    let fresh = json_ok(res, StatusCode::CREATED).await["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let resumed = open(format!("{fresh}&last_event_id={first_id}"))
        .await
        .unwrap();
    let mut resumed = Stream::from(resumed).await;
    let next = resumed.take(1).await;
    assert_eq!(next[0].data["data"]["order_id"], second["id"]);
    assert!(resumed.next(Duration::from_millis(800)).await.is_none());

    let again = open(ticket).await.unwrap();
    assert_eq!(
        problem(again, StatusCode::UNAUTHORIZED).await["code"],
        "unauthorized"
    );
    let forged = open("not-a-ticket".into()).await.unwrap();
    problem(forged, StatusCode::UNAUTHORIZED).await;
    let bare = app.client.get(app.url("/v1/events")).send().await.unwrap();
    problem(bare, StatusCode::UNAUTHORIZED).await;
    // Something that is no event id replays the window: the orders placed above, once each.
    let odd = app
        .request(Method::GET, "/v1/events", Some(&creative.token))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    let mut replayed = Stream::from(odd).await;
    let window = replayed.take(2).await;
    assert!(window.iter().all(|e| e.event == "order.placed"));
    assert_ne!(window[0].id, window[1].id);
    assert!(replayed.next(Duration::from_millis(800)).await.is_none());
}

#[tokio::test]
async fn streams_per_user_are_capped_and_a_closed_one_frees_its_place() {
    let app = TestApp::spawn_with(|s| {
        s.live.max_streams_per_user = 2;
        s.live.heartbeat = Duration::from_millis(300);
    })
    .await;
    let user = app.register("user").await;
    let a = Stream::open(&app, &user, None).await;
    let _b = Stream::open(&app, &user, None).await;
    let third = app
        .request(Method::GET, "/v1/events", Some(&user.token))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(a);
    // The server notices the closed connection on its next write (a heartbeat at the latest).
    for _ in 0..50 {
        let res = app
            .request(Method::GET, "/v1/events", Some(&user.token))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the closed stream's place was never freed");
}

#[tokio::test]
async fn tickets_and_webhook_url_checks_are_rate_limited_per_user() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limits.event_tickets_per_user_per_hour = 2;
        s.rate_limits.webhook_url_checks_per_user_per_hour = 1;
    })
    .await;
    let user = app.register("user").await;
    let ticket = || {
        app.request(Method::POST, "/v1/events/ticket", Some(&user.token))
            .send()
    };
    assert_eq!(ticket().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(ticket().await.unwrap().status(), StatusCode::CREATED);
    let third = ticket().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));

    let endpoint = json!({"url": "https://elsewhere.example/hook", "events": ["order.placed"]});
    let first = app
        .post("/v1/webhook-endpoints", Some(&user.token), &endpoint)
        .await;
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let second = app
        .post("/v1/webhook-endpoints", Some(&user.token), &endpoint)
        .await;
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
}
