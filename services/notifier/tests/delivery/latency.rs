//! Latency from `Notifier::deliver` to the payload arriving at a local webhook receiver, against
//! a plain reqwest POST of a same-sized body to the same receiver. Prints numbers; asserts none.
//!
//! cargo test -p costwatch-notifier --test delivery -- --ignored --nocapture latency

use std::sync::Arc;
use std::time::{Duration, Instant};

use costwatch_notifier::{AlertState, InMemoryDeliveryLog, Notifier, NotifierConfig};

use crate::notification;
use crate::receiver::Receiver;

const SENDS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}

fn summary(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    println!(
        "{name:<28} n={} p50={:>8.1}µs p99={:>8.1}µs max={:>8.1}µs",
        samples.len(),
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
    );
    (p50, p99)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints numbers"]
async fn latency_deliver_vs_plain_post() {
    let receiver = Receiver::ok().await;
    let toml = format!(
        "[channels.hook]\nkind = \"webhook\"\nurl = \"{}\"\nsigning_secret = \"s\"",
        receiver.url("/hook")
    );
    let config = NotifierConfig::load(Some(&toml), Vec::new()).expect("valid");
    let notifier =
        Notifier::from_config(&config, Arc::new(InMemoryDeliveryLog::new())).expect("builds");
    let plain = reqwest::Client::new();
    let body = costwatch_notifier::channels::webhook::body(&notification(AlertState::Triggered))
        .expect("serializes");

    // Warm-up: connection set-up is not what is measured.
    for i in 0..10 {
        let mut n = notification(AlertState::Triggered);
        n.alert_id = format!("warm-{i}");
        notifier.deliver(&n).await;
        plain
            .post(receiver.url("/plain"))
            .body(body.clone())
            .send()
            .await
            .expect("post");
    }

    let mut via_notifier = Vec::with_capacity(SENDS);
    let mut via_plain = Vec::with_capacity(SENDS);
    for i in 0..SENDS {
        // Alternate so both see the same machine conditions.
        let mut n = notification(AlertState::Triggered);
        n.alert_id = format!("bench-{i}"); // distinct ids: no "already delivered" short cut
        let before = receiver.requests().len();
        let start = Instant::now();
        notifier.deliver(&n).await;
        via_notifier.push(receiver.requests()[before].arrived_at - start);

        let before = receiver.requests().len();
        let start = Instant::now();
        plain
            .post(receiver.url("/plain"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("post");
        via_plain.push(receiver.requests()[before].arrived_at - start);
    }
    println!("deliver() → receiver has the payload, {SENDS} sequential sends, local axum receiver");
    let (n50, n99) = summary("notifier.deliver (webhook)", via_notifier);
    let (b50, b99) = summary("baseline reqwest POST", via_plain);
    println!(
        "ratio notifier/baseline: p50 {:.2}x, p99 {:.2}x",
        n50.as_secs_f64() / b50.as_secs_f64(),
        n99.as_secs_f64() / b99.as_secs_f64()
    );
}
