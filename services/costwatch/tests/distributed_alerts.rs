//! Budgets and alerts across processes, on real Kafka and Cassandra (started by `make adapters`):
//! the budget is created through one gateway, costs arrive through the collector and the
//! aggregator, the **notifier process** evaluates them (CQL alert store), pages a local webhook
//! and publishes the alert on the Kafka alerts topic, where the gateway's GraphQL subscription
//! picks it up. Re-delivered events and a restarted notifier raise nothing new.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod support;
use support::distributed::{Stack, wait_healthy};

const SECRET: &str = "distributed-test-secret";

type Pages = Arc<Mutex<Vec<Value>>>;

/// A local webhook receiver keeping every page it gets.
async fn receiver() -> (String, Pages) {
    let pages = Pages::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(p): State<Pages>, body: Bytes| async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                p.lock().expect("lock").push(v);
                "ok"
            }),
        )
        .with_state(pages.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), pages)
}

async fn gql(client: &reqwest::Client, base: &str, query: &str, variables: Value) -> Value {
    client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("graphql request")
        .json()
        .await
        .expect("graphql json")
}

fn event(id: &str, amount: &str) -> Value {
    json!({
        "id": id, "tenant": "acme", "timestamp": Utc::now().to_rfc3339(), "category": "hosting",
        "provider": "aws", "service": "ec2", "resource": "i-0abc", "metric": "vcpu_hours",
        "quantity": "1", "unit": "hour", "cost": { "amount": amount, "currency": "USD" }
    })
}

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn subscribe_alerts(
    gateway: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut req = format!("{}/graphql/ws", gateway.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect");
    ws.send(Message::text(
        json!({"type": "connection_init"}).to_string(),
    ))
    .await
    .expect("init");
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription{alerts(tenant:\"acme\"){id state dedupeKey tenant}}"}})
        .to_string(),
    ))
    .await
    .expect("subscribe");
    ws
}

#[tokio::test]
#[ignore = "needs Kafka and Cassandra: make adapters"]
async fn a_budget_crossing_pages_once_and_reaches_the_gateway_through_kafka() {
    let (hook, pages) = receiver().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let notifier_toml = dir.path().join("notifier.toml");
    std::fs::write(
        &notifier_toml,
        format!(
            "[retry]\ninitial_backoff_ms = 50\n[channels.hook]\nkind = \"webhook\"\nurl = \"{hook}\"\nsigning_secret = \"{SECRET}\"\n"
        ),
    )
    .expect("notifier config");
    let mut stack = Stack::migrated();
    stack.env.push((
        "COSTWATCH_NOTIFIER".into(),
        notifier_toml.display().to_string(),
    ));
    let _collector = stack.spawn("collector");
    let _aggregator = stack.spawn("aggregator");
    let _gateway = stack.spawn("gateway");
    let mut notifier = stack.spawn("notifier");
    let client = reqwest::Client::new();
    wait_healthy(&client, &stack.gateway).await;
    wait_healthy(&client, &stack.collector).await;

    let created = gql(
        &client,
        &stack.gateway,
        "mutation($i:BudgetInput!){createBudget(tenant:\"acme\",input:$i){id}}",
        json!({ "i": {
            "name": "Web tier", "amount": "100", "currency": "USD", "period": "MONTHLY",
            "scope": { "service": "ec2" },
            "thresholds": [ { "percent": "80", "basis": "ACTUAL" }, { "percent": "1000", "basis": "FORECAST" } ]
        }}),
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    let mut ws = subscribe_alerts(&stack.gateway).await;
    // The subscription starts reading the alerts topic at its end when the gateway's consumer
    // is assigned; give that a moment before anything can be published.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let post = |events: Value| {
        let (client, url) = (client.clone(), format!("{}/v1/events", stack.collector));
        async move {
            let r = client.post(url).json(&events).send().await.expect("post");
            assert_eq!(r.status(), 202, "{:?}", r.text().await);
        }
    };
    let posted = std::time::Instant::now();
    post(json!([event("e1", "85")])).await;

    let pushed = wait_for("the alert on the gateway subscription", async || {
        let msg = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
        match msg {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = serde_json::from_str(&t).ok()?;
                (v["type"] == "next").then_some(v)
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(
        pushed["payload"]["data"]["alerts"]["state"], "TRIGGERED",
        "{pushed}"
    );
    assert!(
        pushed["payload"]["data"]["alerts"]["dedupeKey"]
            .as_str()
            .unwrap_or_default()
            .ends_with(":80"),
        "{pushed}"
    );
    let first = wait_for("the page", async || {
        pages.lock().expect("lock").first().cloned()
    })
    .await;
    println!(
        "distributed: threshold-crossing event → webhook received: {} ms (collector → Kafka → \
         aggregator → CQL → Kafka → notifier → CQL outbox → webhook)",
        posted.elapsed().as_millis()
    );
    assert_eq!(first["tenant"], "acme", "{first}");
    assert_eq!(first["state"], "triggered", "{first}");

    // Re-delivery of the crossing event, then a notifier restart (it re-sweeps every tenant).
    post(json!([event("e1", "85")])).await;
    let _ = notifier.0.kill();
    let _ = notifier.0.wait();
    notifier = stack.spawn("notifier");
    post(json!([event("e2", "1")])).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let alerts = gql(
        &client,
        &stack.gateway,
        "{alerts(tenant:\"acme\"){state dedupeKey actual{amount}}}",
        json!({}),
    )
    .await;
    let list = alerts["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(pages.lock().expect("lock").len(), 1, "paged exactly once");
    // Another tenant sees nothing of acme's alerts.
    let other = gql(
        &client,
        &stack.gateway,
        "{alerts(tenant:\"globex\"){id}}",
        json!({}),
    )
    .await;
    assert_eq!(other["data"]["alerts"], json!([]), "{other}");
    drop(notifier);
}
