//! `make bench-distributed`: distributed mode on the dev stack (real Kafka + Cassandra), services
//! as separate release processes. Prints, with baselines measured in the same run:
//! - the raw Kafka producer throughput for the same message size (Kafka's own
//!   `org.apache.kafka.tools.ProducerPerformance` from the dev-stack jars, acks=all);
//! - end-to-end throughput: events/s from the first send until every total is visible;
//! - ingest → `costUpdates` push latency (p50/p99) at fixed offered rates, next to the collector's
//!   acknowledgement latency.
//!
//! Env: BENCH_EVENTS (default 100000), BENCH_RATES (events/s, default "1000,10000"),
//! BENCH_SECONDS per rate (default 5).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[path = "../tests/support/distributed.rs"]
mod support;
use support::{Stack, counted, wait_healthy};

const TENANTS: usize = 20;
const BATCH: usize = 1000;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn event(tenant: &str, id: &str, n: usize) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + n % 28, n % 24, n % 60),
        "category": "hosting", "subKind": "compute", "provider": "aws", "service": "ec2",
        "resource": format!("i-{}", n % 17), "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": "0.00000000503", "currency": "USD"}, "labels": {"team": "bench"}
    })
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// Kafka's own producer benchmark on a fresh topic: records/s for `size`-byte records.
fn kafka_producer_baseline(records: usize, size: usize) -> Option<f64> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let brokers = env_or("COSTWATCH_KAFKA_BROKERS", "127.0.0.1:9092");
    let topic = format!("bench-raw-{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().ok()?;
    rt.block_on(costwatch_kafka::ensure_topic(
        &costwatch_kafka::KafkaOptions {
            brokers: brokers.clone(),
            topic: topic.clone(),
            partitions: 6,
            replication: 1,
        },
    ))
    .ok()?;
    let out = std::process::Command::new("java")
        .args([
            "-cp",
            &format!("{root}/.dev/jars/kafka/*"),
            "org.apache.kafka.tools.ProducerPerformance",
        ])
        .args(["--topic", &topic, "--num-records", &records.to_string()])
        .args([
            "--record-size",
            &size.to_string(),
            "--throughput",
            "-1",
            "--producer-props",
        ])
        .args([
            &format!("bootstrap.servers={brokers}"),
            "acks=all",
            "linger.ms=2",
            "enable.idempotence=true",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Last line: "N records sent, R records/sec (M MB/sec), ..."
    let last = text.lines().rev().find(|l| l.contains("records sent"))?;
    last.split(", ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn throughput(client: &reqwest::Client, stack: &Stack, total: usize) -> (f64, f64) {
    let started = Instant::now();
    let mut senders = Vec::new();
    for c in 0..4 {
        let (client, base) = (client.clone(), stack.collector.clone());
        senders.push(tokio::spawn(async move {
            for b in (c..total / BATCH).step_by(4) {
                let batch: Vec<Value> = (0..BATCH)
                    .map(|i| {
                        let n = b * BATCH + i;
                        event(&format!("tput{}", n % TENANTS), &format!("tput-{n}"), n)
                    })
                    .collect();
                let r = client
                    .post(format!("{base}/v1/events"))
                    .json(&batch)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), 202, "collector refused a batch");
            }
        }));
    }
    for s in senders {
        s.await.expect("sender");
    }
    let acked = started.elapsed();
    loop {
        let mut n = 0;
        for t in 0..TENANTS {
            n += counted(client, &stack.gateway, &format!("tput{t}"))
                .await
                .unwrap_or(0);
        }
        if n as usize >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let visible = started.elapsed();
    (
        total as f64 / acked.as_secs_f64(),
        total as f64 / visible.as_secs_f64(),
    )
}

/// Offers `rate` events/s for `seconds` in batches of `rate / 100` every 10 ms; the first event of
/// each batch is a probe of tenant `lat` whose push is awaited on a WebSocket subscription.
async fn latency(
    client: &reqwest::Client,
    stack: &Stack,
    rate: usize,
    seconds: u64,
) -> (Histogram<u64>, Histogram<u64>) {
    let ws_url = stack.gateway.replace("http://", "ws://") + "/graphql/ws";
    let mut req = ws_url.into_client_request().expect("ws request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect");
    ws.send(Message::text(json!({"type":"connection_init"}).to_string()))
        .await
        .expect("init");
    let _ack = ws.next().await;
    ws.send(Message::text(
        json!({"id":"1","type":"subscribe","payload":{"query":"subscription{costUpdates(tenant:\"lat\"){eventIds}}"}})
            .to_string(),
    ))
    .await
    .expect("subscribe");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            let at = Instant::now();
            let v: Value = serde_json::from_str(&t).unwrap_or_default();
            for id in v["payload"]["data"]["costUpdates"]["eventIds"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let _ = tx.send((id.as_str().unwrap_or_default().to_string(), at));
            }
        }
    });
    let per_tick = (rate / 100).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut ack = Histogram::<u64>::new(3).expect("histogram");
    let mut acks = Vec::new();
    for t in 0..(seconds * 100) as usize {
        tick.tick().await;
        let probe = format!("lat-{rate}-{t}");
        let mut batch = vec![event("lat", &probe, t)];
        batch.extend((1..per_tick).map(|i| {
            event(
                &format!("load{}", i % TENANTS),
                &format!("load-{rate}-{t}-{i}"),
                t * per_tick + i,
            )
        }));
        let start = Instant::now();
        sent_at.insert(probe, start);
        let (client, base) = (client.clone(), stack.collector.clone());
        acks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{base}/v1/events"))
                .json(&batch)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 202);
            start.elapsed()
        }));
    }
    for a in acks {
        ack.record(a.await.expect("ack").as_micros() as u64)
            .expect("record");
    }
    let mut push = Histogram::<u64>::new(3).expect("histogram");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sent_at.is_empty() && Instant::now() < deadline {
        if let Ok(Some((id, at))) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
            && let Some(start) = sent_at.remove(&id)
        {
            push.record(at.duration_since(start).as_micros() as u64)
                .expect("record");
        }
    }
    assert!(
        sent_at.is_empty(),
        "{} probes never pushed within 120 s",
        sent_at.len()
    );
    (ack, push)
}

#[tokio::main]
async fn main() {
    let events: usize = env_or("BENCH_EVENTS", "100000")
        .parse()
        .expect("BENCH_EVENTS");
    let rates: Vec<usize> = env_or("BENCH_RATES", "1000,10000")
        .split(',')
        .map(|r| r.trim().parse().expect("BENCH_RATES"))
        .collect();
    let seconds: u64 = env_or("BENCH_SECONDS", "5").parse().expect("BENCH_SECONDS");
    let size = serde_json::to_string(&event("tput0", "tput-0000000", 0))
        .expect("json")
        .len();
    let raw = tokio::task::spawn_blocking(move || kafka_producer_baseline(events, size))
        .await
        .expect("baseline");

    let stack = Stack::migrated();
    let (_collector, _gateway, _aggregator) = (
        stack.spawn("collector"),
        stack.spawn("gateway"),
        stack.spawn("aggregator"),
    );
    let client = reqwest::Client::new();
    wait_healthy(&client, &stack.collector).await;
    wait_healthy(&client, &stack.gateway).await;

    let (acked, visible) = throughput(&client, &stack, events).await;
    println!(
        "costwatch distributed benchmark (Kafka 4.3.1 + Cassandra 5.0.8 on this machine, {size}-byte events)"
    );
    match raw {
        Some(raw) => {
            println!("  baseline: Kafka ProducerPerformance, acks=all  {raw:>10.0} records/s")
        }
        None => {
            println!("  baseline: Kafka ProducerPerformance did not run (java or jars missing)")
        }
    }
    println!("  collector acknowledged (durable in Kafka)       {acked:>10.0} events/s");
    print!("  ingest -> all totals visible                    {visible:>10.0} events/s");
    match raw {
        Some(raw) => println!("  ({:.3}x raw producer)", visible / raw),
        None => println!(),
    }
    for rate in rates {
        let (ack, push) = latency(&client, &stack, rate, seconds).await;
        println!(
            "latency at an offered {rate} events/s for {seconds} s ({} probes)",
            push.len()
        );
        println!(
            "  baseline: POST acknowledged   p50 {:>8.2} ms  p99 {:>8.2} ms",
            pct(&ack, 0.5),
            pct(&ack, 0.99)
        );
        println!(
            "  POST -> costUpdates push      p50 {:>8.2} ms  p99 {:>8.2} ms  ({:.1}x / {:.1}x baseline)",
            pct(&push, 0.5),
            pct(&push, 0.99),
            pct(&push, 0.5) / pct(&ack, 0.5),
            pct(&push, 0.99) / pct(&ack, 0.99)
        );
    }
}
