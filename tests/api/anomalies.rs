//! The anomaly detector end to end: history ingested through the collector's HTTP API, an hour
//! where one resource costs 10×, and the `anomalyDetected` push explaining it.

use std::time::Duration;

use chrono::{DateTime, Duration as Hours, DurationRound, Utc};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::live::{Ws, next_json, subscribe};

const DETECTED: &str = "subscription($t:String!){anomalyDetected(tenant:$t){id tenant series kind windowStart actual{amount} expected{amount} rootCause{key delta{amount} sharePercent}}}";

fn event(tenant: &str, at: DateTime<Utc>, resource: &str, service: &str, amount: &str) -> Value {
    let category = if service == "rds" {
        "database"
    } else {
        "hosting"
    };
    json!({
        "id": format!("{resource}-{}", at.timestamp()), "tenant": tenant,
        "timestamp": at.to_rfc3339(), "category": category, "provider": "aws",
        "service": service, "resource": resource, "metric": "vcpu_hours", "quantity": "1",
        "unit": "hour", "cost": { "amount": amount, "currency": "USD" },
        "labels": { "team": "web" }
    })
}

/// 72 steady hours ending two hours ago, then the last closed hour; `spike` makes r-spiky cost
/// 10× in that last hour.
fn history(tenant: &str, now: DateTime<Utc>, spike: bool) -> Value {
    let this_hour = now.duration_trunc(Hours::hours(1)).expect("hour");
    let mut events = Vec::new();
    for back in (1..=73).rev() {
        // Mid-hour, so the event is inside its hour whatever the rounding.
        let at = this_hour - Hours::hours(back) + Hours::minutes(30);
        let last = back == 1;
        events.push(event(tenant, at, "r-a", "ec2", "2"));
        events.push(event(tenant, at, "r-b", "rds", "3"));
        events.push(event(tenant, at, "r-c", "ec2", "0.5"));
        let spiky = if spike && last { "10" } else { "1" };
        events.push(event(tenant, at, "r-spiky", "ec2", spiky));
    }
    Value::Array(events)
}

async fn no_message_within(ws: &mut Ws, wait: Duration) -> Option<String> {
    use futures::StreamExt;
    match tokio::time::timeout(wait, ws.next()).await {
        Err(_) => None,
        Ok(msg) => Some(format!("{msg:?}")),
    }
}

#[tokio::test]
async fn a_ten_fold_resource_spike_is_pushed_with_its_root_cause_to_its_tenant_only() {
    let app = spawn_app().await;
    let addr = app.platform().http_addr;
    let mut acme = subscribe(addr, DETECTED, json!({"t": "acme"})).await;
    let mut globex = subscribe(addr, DETECTED, json!({"t": "globex"})).await;
    // Give the server a moment to register the subscriptions before ingesting.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let now = Utc::now();
    // globex first and steady: if its data leaked into acme's stream or raised anything, the
    // assertions below would see it.
    let resp = app.post_events(&history("globex", now, false)).await;
    assert_eq!(
        resp.status(),
        202,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let resp = app.post_events(&history("acme", now, true)).await;
    assert_eq!(
        resp.status(),
        202,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    let msg = next_json(&mut acme).await;
    assert_eq!(msg["type"], "next", "{msg}");
    let anomaly = &msg["payload"]["data"]["anomalyDetected"];
    assert_eq!(anomaly["tenant"], "acme", "{msg}");
    assert_eq!(anomaly["kind"], "SPIKE", "{msg}");
    assert_eq!(anomaly["rootCause"][0]["key"], "resource=r-spiky", "{msg}");
    assert_eq!(anomaly["rootCause"][0]["delta"]["amount"], "9", "{msg}");
    let last_hour = now.duration_trunc(Hours::hours(1)).expect("hour") - Hours::hours(1);
    let window: DateTime<Utc> = anomaly["windowStart"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("windowStart: {msg}"));
    assert_eq!(window, last_hour);

    assert_eq!(
        no_message_within(&mut globex, Duration::from_secs(2)).await,
        None,
        "globex is steady and must receive nothing"
    );

    // The stored anomaly is queryable, and feedback round-trips.
    let id = anomaly["id"].as_str().expect("id").to_string();
    let listed = app
        .graphql(
            "query($t:String!,$f:DateTime!,$to:DateTime!){anomalies(tenant:$t,from:$f,to:$to){id series}}",
            json!({"t": "acme", "f": (last_hour - Hours::days(1)).to_rfc3339(), "to": now.to_rfc3339()}),
        )
        .await;
    let list = listed["data"]["anomalies"].as_array().expect("list");
    assert!(list.iter().any(|a| a["id"] == id.as_str()), "{listed}");
    let series: Vec<&str> = list.iter().filter_map(|a| a["series"].as_str()).collect();
    assert!(
        series.contains(&"service=ec2|USD") && !series.contains(&"service=rds|USD"),
        "{listed}"
    );
    let marked = app
        .graphql(
            "mutation($t:String!,$id:ID!){markAnomaly(tenant:$t,id:$id,expected:true,note:\"load test\"){feedback{expected note}}}",
            json!({"t": "acme", "id": id}),
        )
        .await;
    assert_eq!(
        marked["data"]["markAnomaly"]["feedback"],
        json!({"expected": true, "note": "load test"}),
        "{marked}"
    );
    let other = app
        .graphql(
            "mutation($t:String!,$id:ID!){markAnomaly(tenant:$t,id:$id,expected:true){id}}",
            json!({"t": "globex", "id": id}),
        )
        .await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{other}"
    );
    let bad = app
        .graphql("query{anomaly(tenant:\"\",id:\"x\"){id}}", json!({}))
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "tenant", "{bad}");

    // The anomaly also became an alert (lifecycle, notifier) keyed by the anomaly id.
    let alerts = app
        .graphql("query{alerts(tenant:\"acme\"){kind dedupeKey}}", json!({}))
        .await;
    let alerts = alerts["data"]["alerts"].as_array().expect("alerts").clone();
    assert!(
        alerts
            .iter()
            .any(|a| a["kind"] == "ANOMALY" && a["dedupeKey"] == id.as_str()),
        "{alerts:?}"
    );
}

async fn anomaly_count(app: &TestApp, tenant: &str) -> usize {
    let v = app
        .graphql(
            "query($t:String!){anomalies(tenant:$t,from:\"2020-01-01T00:00:00Z\",to:\"2100-01-01T00:00:00Z\",limit:1000){id}}",
            json!({"t": tenant}),
        )
        .await;
    v["data"]["anomalies"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .len()
}

#[tokio::test]
async fn after_a_restart_anomalies_are_kept_and_not_raised_again() {
    let mut app = spawn_app().await;
    let mut ws = subscribe(app.platform().http_addr, DETECTED, json!({"t": "acme"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let resp = app.post_events(&history("acme", Utc::now(), true)).await;
    assert_eq!(resp.status(), 202);
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "next", "{first}");
    // Let the pass finish (every series' anomaly stored) before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = anomaly_count(&app, "acme").await;
    assert!(before >= 1);
    app.stop().await;

    let dir = std::mem::replace(&mut app.dir, tempfile::tempdir().expect("tempdir"));
    assert!(
        dir.path().join("anomalies.sqlite").is_file(),
        "state in the data dir"
    );
    let again = spawn_with(config(dir.path()), dir).await;
    let mut ws = subscribe(again.platform().http_addr, DETECTED, json!({"t": "acme"})).await;
    assert_eq!(
        no_message_within(&mut ws, Duration::from_secs(2)).await,
        None,
        "nothing is pushed again after a restart (same ids, state continued)"
    );
    assert_eq!(anomaly_count(&again, "acme").await, before);
}

#[tokio::test]
async fn the_detector_can_be_turned_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = costwatch::UpConfig {
        anomalies: false,
        ..config(dir.path())
    };
    let app = spawn_with(cfg, dir).await;
    let v = app
        .graphql(
            "{anomalies(tenant:\"acme\",from:\"2020-01-01T00:00:00Z\",to:\"2100-01-01T00:00:00Z\"){id}}",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{v}");
    assert!(!app.dir.path().join("anomalies.sqlite").exists());
}
