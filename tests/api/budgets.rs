//! Budgets and alerts end to end on `costwatch up`: events posted to the collector cross a
//! budget's 80 % threshold → exactly one alert, pushed on the `alerts` subscription and delivered
//! once to a signed local webhook, also after a re-delivered event and a restart; people
//! acknowledge it; REST serves the same budgets and alerts with field-named errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{Duration as Days, Utc};
use serde_json::{Value, json};

use crate::helpers::{config, spawn_with};
use crate::live::next_json;

const SECRET: &str = "whsec-test-1";

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(Instant, Value)>>>);

impl Received {
    fn all(&self) -> Vec<(Instant, Value)> {
        self.0.lock().expect("lock").clone()
    }
}

/// A local webhook receiver that checks the signature of every request before keeping it.
async fn receiver() -> (String, Received) {
    let got = Received::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(got): State<Received>, headers: HeaderMap, body: Bytes| async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    costwatch_notifier::verify_signature(
                        SECRET.as_bytes(),
                        &h("x-costwatch-timestamp"),
                        &h("x-costwatch-signature"),
                        &body,
                        Utc::now(),
                        Duration::from_secs(300),
                    )
                    .expect("valid signature");
                    let v: Value = serde_json::from_slice(&body).expect("json body");
                    got.0.lock().expect("lock").push((Instant::now(), v));
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got)
}

fn event(id: &str, amount: &str) -> Value {
    json!({
        "id": id, "tenant": "acme", "timestamp": Utc::now().to_rfc3339(), "category": "hosting",
        "provider": "aws", "service": "ec2", "resource": "i-0abc", "metric": "vcpu_hours",
        "quantity": "1", "unit": "hour", "cost": { "amount": amount, "currency": "USD" }
    })
}

const CREATE: &str = "mutation($t:String!,$i:BudgetInput!){createBudget(tenant:$t,input:$i){id spent{amount} status}}";
const ALERTS: &str = "query($t:String!){alerts(tenant:$t){id state dedupeKey kind severity actual{amount currency}}}";

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn subscribe_alerts(addr: std::net::SocketAddr) -> crate::live::Ws {
    crate::live::subscribe(
        addr,
        "subscription($t:String!){alerts(tenant:$t){id state dedupeKey tenant}}",
        json!({"t": "acme"}),
    )
    .await
}

#[tokio::test]
async fn crossing_80_percent_alerts_once_and_pages_the_webhook_once() {
    let (url, received) = receiver().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let notifier_toml = dir.path().join("notifier.toml");
    std::fs::write(
        &notifier_toml,
        // `broken` answers 404 (a permanent failure): dead-lettered at once, visible in the API.
        format!(
            "[retry]\ninitial_backoff_ms = 50\n[channels.hook]\nkind = \"webhook\"\nurl = \"{url}\"\nsigning_secret = \"{SECRET}\"\n\
             [channels.broken]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"{SECRET}\"\n",
            url.replace("/hook", "/missing")
        ),
    )
    .expect("write notifier config");
    let mut cfg = config(dir.path());
    cfg.notifier = Some(notifier_toml);
    let app = spawn_with(cfg.clone(), dir).await;
    let mut ws = subscribe_alerts(app.platform().http_addr).await;

    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let input = json!({
        "name": "Web tier", "amount": "100", "currency": "USD", "period": "CUSTOM",
        "customStart": (today - Days::days(10)).to_rfc3339(), "customEnd": (today + Days::days(20)).to_rfc3339(),
        "scope": { "service": "ec2" },
        // 79.99 spent in 10 days of 30 projects far past 100: a forecast threshold out of reach
        // keeps forecast and depletion warnings out of a test about the actual 80 %.
        "thresholds": [ { "percent": "80", "basis": "ACTUAL" }, { "percent": "100", "basis": "ACTUAL" },
                        { "percent": "1000", "basis": "FORECAST" } ],
        "owner": "web-oncall"
    });
    let created = app
        .graphql(CREATE, json!({ "t": "acme", "i": input }))
        .await;
    assert!(created["errors"].is_null(), "{created}");

    assert_eq!(
        app.post_events(&json!([event("e1", "79.99")]))
            .await
            .status(),
        202
    );
    app.wait_for_total("acme", "79.99".parse().expect("decimal"))
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let none = app.graphql(ALERTS, json!({ "t": "acme" })).await;
    assert_eq!(
        none["data"]["alerts"],
        json!([]),
        "79.99 % is under every threshold"
    );

    // The crossing event: time from its POST to the webhook receiving the page.
    let posted = Instant::now();
    assert_eq!(
        app.post_events(&json!([event("e2", "0.01")]))
            .await
            .status(),
        202
    );
    let pages = wait_for("the page", async || {
        Some(received.all()).filter(|r| !r.is_empty())
    })
    .await;
    let latency = pages[0].0 - posted;
    println!(
        "threshold-crossing event → webhook received: {} ms",
        latency.as_millis()
    );
    let page = &pages[0].1;
    assert_eq!(page["type"], "costwatch.alert");
    assert_eq!(page["state"], "triggered");
    assert_eq!(page["tenant"], "acme");
    assert!(
        page["dedupe_key"]
            .as_str()
            .unwrap_or_default()
            .ends_with(":80"),
        "{page}"
    );

    let pushed = next_json(&mut ws).await;
    assert_eq!(
        pushed["payload"]["data"]["alerts"]["state"], "TRIGGERED",
        "{pushed}"
    );
    let alerts = app.graphql(ALERTS, json!({ "t": "acme" })).await;
    let list = alerts["data"]["alerts"].as_array().expect("alerts").clone();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(list[0]["kind"], "BUDGET_THRESHOLD");
    assert_eq!(list[0]["severity"], "WARNING");
    assert_eq!(
        list[0]["actual"],
        json!({ "amount": "80", "currency": "USD" })
    );
    let id = list[0]["id"].as_str().expect("id").to_string();
    let deliveries = wait_for("delivery records", async || {
        let v = app
            .graphql(
                "query($t:String!){alerts(tenant:$t){deliveries{channel state alertState attempts lastError}} notificationDeadLetters(tenant:$t){channel alertId}}",
                json!({ "t": "acme" }),
            )
            .await;
        let d = v["data"]["alerts"][0]["deliveries"].as_array().cloned().unwrap_or_default();
        (d.len() == 2 && v["data"]["notificationDeadLetters"].as_array().map(Vec::len) == Some(1)).then_some(v)
    })
    .await;
    let by_channel = |c: &str| {
        deliveries["data"]["alerts"][0]["deliveries"]
            .as_array()
            .and_then(|d| d.iter().find(|x| x["channel"] == c).cloned())
            .unwrap_or_else(|| panic!("{deliveries}"))
    };
    assert_eq!(by_channel("hook")["state"], "delivered");
    assert_eq!(by_channel("broken")["state"], "dead_lettered");
    assert!(
        by_channel("broken")["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("404"),
        "{deliveries}"
    );
    assert_eq!(
        deliveries["data"]["notificationDeadLetters"][0]["alertId"],
        json!(id)
    );

    // Re-delivery of the crossing event and more spend under 100 %: still one alert, one page.
    assert_eq!(
        app.post_events(&json!([event("e2", "0.01"), event("e3", "1")]))
            .await
            .status(),
        202
    );
    app.wait_for_total("acme", "81".parse().expect("decimal"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A restart (the sweep on start re-evaluates everything): still one alert, one page.
    let mut app = app;
    app.platform.take().expect("running").stop().await;
    assert_eq!(cfg.data_dir, app.dir.path(), "same data dir");
    let platform = costwatch::Platform::start(cfg).await.expect("restart");
    app.base = format!("http://{}", platform.http_addr);
    app.platform = Some(platform);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let alerts = app.graphql(ALERTS, json!({ "t": "acme" })).await;
    assert_eq!(
        alerts["data"]["alerts"].as_array().map(Vec::len),
        Some(1),
        "{alerts}"
    );
    assert_eq!(received.all().len(), 1, "paged exactly once");

    // Acknowledge: the same incident moves on, and the receiver hears it (same dedupe key).
    let ack = app
        .graphql(
            "mutation($t:String!,$id:ID!){acknowledgeAlert(tenant:$t,id:$id,by:\"ana\"){state history{state by}}}",
            json!({ "t": "acme", "id": id }),
        )
        .await;
    assert_eq!(
        ack["data"]["acknowledgeAlert"]["state"], "ACKNOWLEDGED",
        "{ack}"
    );
    let pages = wait_for("the acknowledgement", async || {
        Some(received.all()).filter(|r| r.len() == 2)
    })
    .await;
    assert_eq!(pages[1].1["state"], "acknowledged");
    assert_eq!(pages[1].1["dedupe_key"], page["dedupe_key"]);
    // Another tenant sees nothing of it.
    let other = app.graphql(ALERTS, json!({ "t": "globex" })).await;
    assert_eq!(other["data"]["alerts"], json!([]));
}

#[tokio::test]
async fn rest_budgets_and_alerts_validate_and_match_graphql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_with(config(dir.path()), dir).await;
    let url = format!("{}/api/admin/costs/budgets", app.base);
    let bad = app
        .client
        .post(&url)
        .json(&json!({ "tenant": "acme", "input": {
            "name": "Split", "amount": "100", "currency": "USD", "period": "MONTHLY",
            "allocations": [ { "category": "hosting", "amount": "60" }, { "category": "database", "amount": "30" } ] } }))
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["field"], "input.allocations", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("add up to 90"),
        "{body}"
    );

    let bad_amount: Value = app
        .client
        .post(&url)
        .json(&json!({ "tenant": "acme", "input": { "name": "x", "amount": "ten", "currency": "USD", "period": "MONTHLY" } }))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(bad_amount["field"], "input.amount", "{bad_amount}");

    let created = app
        .client
        .post(&url)
        .json(&json!({ "tenant": "acme", "input": { "name": "All", "amount": "250.50", "currency": "EUR", "period": "QUARTERLY" } }))
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(
        created["amount"],
        json!({ "amount": "250.5", "currency": "EUR" })
    );
    assert_eq!(
        created["thresholds"].as_array().map(Vec::len),
        Some(4),
        "defaults"
    );

    let listed: Value = app
        .client
        .get(format!("{url}?tenant=acme"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let gql = app
        .graphql(
            "query{budgets(tenant:\"acme\"){id name amount{amount currency} status percentSpent}}",
            json!({}),
        )
        .await;
    assert_eq!(listed["budgets"][0]["id"], gql["data"]["budgets"][0]["id"]);
    assert_eq!(listed["budgets"][0]["status"], "ON_TRACK");
    let other: Value = app
        .client
        .get(format!("{url}?tenant=globex"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(other["budgets"], json!([]));

    let id = created["id"].as_str().expect("id");
    let gone = app
        .client
        .delete(format!("{url}/{id}?tenant=globex"))
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status(), 404, "another tenant cannot delete it");
    let gone = app
        .client
        .delete(format!("{url}/{id}?tenant=acme"))
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status(), 204);

    let alerts = format!("{}/api/admin/costs/alerts", app.base);
    let bad_state: Value = app
        .client
        .get(format!("{alerts}?tenant=acme&state=open"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(bad_state["field"], "state");
    let missing = app
        .client
        .post(&alerts)
        .json(&json!({ "tenant": "acme", "id": "nope", "action": "resolve" }))
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), 404);
}
