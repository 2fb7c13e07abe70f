//! `make bench`: ingest → visible-in-totals throughput and POST → subscription-push latency, in
//! embedded mode, each next to a baseline measured in the same run:
//! - throughput vs. the raw durable append rate of the embedded log (no HTTP, no aggregation);
//! - push latency vs. the POST acknowledgement latency (durable append over HTTP).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use costwatch::{Platform, UpConfig};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const LATENCY_SAMPLES: usize = 500;
const THROUGHPUT_EVENTS: usize = 100_000;
const BATCH: usize = 1_000;
const CONCURRENCY: usize = 4;

fn event(tenant: &str, id: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-14T15:09:26Z", "category": "api",
        "provider": "internal", "service": "api-gateway", "resource": "gw/public", "metric": "requests",
        "quantity": "1200", "unit": "request", "labels": {"team": "web"}
    })
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

async fn raw_log_baseline(dir: &std::path::Path) -> f64 {
    use costwatch_ports_shim::*;
    let log = SqliteLog::open(&dir.join("baseline.sqlite")).expect("log");
    let events: Vec<_> = (0..THROUGHPUT_EVENTS)
        .map(|i| {
            let v = event("base", &format!("b{i}"));
            costwatch_domain::validate::parse_event(0, &v, chrono::Utc::now()).expect("valid")
        })
        .collect();
    let started = Instant::now();
    for chunk in events.chunks(BATCH) {
        log.publish(chunk).await.expect("publish");
    }
    THROUGHPUT_EVENTS as f64 / started.elapsed().as_secs_f64()
}

mod costwatch_ports_shim {
    pub use costwatch_embedded::SqliteLog;
    pub use costwatch_ports::UsageLog;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("platform"),
        demo: false,
        // The pipeline's latency, not token checks (those are per request, not per event).
        auth: costwatch::auth::AuthSettings::disabled(),
        // A load generator from one address, not a person: no per-caller rate limit.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("start");
    let base = format!("http://{}", platform.http_addr);
    let client = reqwest::Client::new();

    // Latency: one event per POST; time to the ack and to the push carrying its id.
    let mut req = format!("ws://{}/graphql/ws", platform.http_addr)
        .into_client_request()
        .expect("req");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("hdr"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    ws.send(Message::text(json!({"type":"connection_init"}).to_string()))
        .await
        .expect("init");
    let _ack = ws.next().await;
    ws.send(Message::text(
        json!({"id":"1","type":"subscribe","payload":{"query":"subscription{costUpdates(tenant:\"lat\"){eventIds}}"}}).to_string(),
    ))
    .await
    .expect("sub");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            let now = Instant::now();
            let v: Value = serde_json::from_str(&t).unwrap_or_default();
            for id in v["payload"]["data"]["costUpdates"]["eventIds"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let _ = tx.send((id.as_str().unwrap_or_default().to_string(), now));
            }
        }
    });
    let mut ack = Histogram::<u64>::new(3).expect("hist");
    let mut push = Histogram::<u64>::new(3).expect("hist");
    let mut pushed: HashMap<String, Instant> = HashMap::new();
    for i in 0..LATENCY_SAMPLES {
        let id = format!("l{i}");
        let sent = Instant::now();
        let resp = client
            .post(format!("{base}/v1/events"))
            .json(&json!([event("lat", &id)]))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 202);
        ack.record(sent.elapsed().as_micros() as u64)
            .expect("record");
        let seen_at = loop {
            if let Some(t) = pushed.remove(&id) {
                break t;
            }
            let (got, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("push")
                .expect("open");
            pushed.insert(got, at);
        };
        push.record(seen_at.duration_since(sent).as_micros() as u64)
            .expect("record");
    }

    // Throughput: 100k events in 1k-event batches from 4 concurrent clients, until all are in totals.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONCURRENCY {
        let client = client.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            for b in (c..THROUGHPUT_EVENTS / BATCH).step_by(CONCURRENCY) {
                let batch: Vec<Value> = (0..BATCH)
                    .map(|i| event("tput", &format!("t{b}-{i}")))
                    .collect();
                let resp = client
                    .post(format!("{base}/v1/events"))
                    .json(&batch)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status(), 202);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client");
    }
    let acked = started.elapsed();
    let query = json!({"query": "{costSummary(tenant:\"tput\",range:{from:\"2026-01-01T00:00:00Z\",to:\"2026-12-01T00:00:00Z\"}){events}}"});
    loop {
        let v: Value = client
            .post(format!("{base}/graphql"))
            .json(&query)
            .send()
            .await
            .expect("q")
            .json()
            .await
            .expect("json");
        let n = v["data"]["costSummary"]["events"].as_u64().or_else(|| {
            v["data"]["costSummary"]["events"]
                .as_str()
                .and_then(|s| s.parse().ok())
        });
        if n == Some(THROUGHPUT_EVENTS as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let visible = started.elapsed();
    platform.stop().await;
    let baseline = raw_log_baseline(dir.path()).await;
    let e2e = THROUGHPUT_EVENTS as f64 / visible.as_secs_f64();

    println!(
        "costwatch embedded benchmark ({THROUGHPUT_EVENTS} events, batches of {BATCH}, {CONCURRENCY} clients)"
    );
    println!("  baseline: raw durable log append            {baseline:>10.0} events/s");
    println!(
        "  ingest acked over HTTP                      {:>10.0} events/s",
        THROUGHPUT_EVENTS as f64 / acked.as_secs_f64()
    );
    println!(
        "  ingest -> visible in totals                 {e2e:>10.0} events/s  ({:.2}x baseline)",
        e2e / baseline
    );
    println!("latency, one event per POST ({LATENCY_SAMPLES} samples)");
    println!(
        "  baseline: POST acknowledged (durable)       p50 {:>7.2} ms  p99 {:>7.2} ms",
        pct(&ack, 0.5),
        pct(&ack, 0.99)
    );
    println!(
        "  POST -> costUpdates push                    p50 {:>7.2} ms  p99 {:>7.2} ms  ({:.2}x / {:.2}x baseline)",
        pct(&push, 0.5),
        pct(&push, 0.99),
        pct(&push, 0.5) / pct(&ack, 0.5),
        pct(&push, 0.99) / pct(&ack, 0.99)
    );
}
