//! kill -9 under load: the `costwatch` process is killed at random instants while clients ingest;
//! clients retry every batch that was not acknowledged (at-least-once, as real collectors do) and
//! re-send some that were. At the end the totals must equal the ground truth exactly: no event
//! lost, none counted twice.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use costwatch_domain::RateCard;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const ROUNDS: usize = 5;
const BATCH: usize = 40;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    /// A failing assertion must not leave the server running (it would hold the test's pipes).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Server {
    let (http, grpc) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_costwatch"))
        .args([
            "up",
            "--no-demo",
            "--auth",
            "none",
            "--http",
            &format!("127.0.0.1:{http}"),
            "--grpc",
            &format!("127.0.0.1:{grpc}"),
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("COSTWATCH_LOG", "warn")
        // Tight ingest and polling loops from one address: no per-caller rate limit.
        .env("COSTWATCH_RATE_LIMIT_PER_MINUTE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn costwatch");
    Server {
        child,
        base: format!("http://127.0.0.1:{http}"),
    }
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("costwatch did not become healthy at {base}");
}

/// Batch `b`: billed events with awkward 11-place amounts plus one rate-priced request event.
fn batch(b: usize) -> Vec<Value> {
    let mut events: Vec<Value> = (0..BATCH - 1)
        .map(|i| {
            let n = (b * BATCH + i) as i64;
            let amount = Decimal::new(n * 7_919 % 1_000_003 + 503, 11);
            json!({
                "id": format!("b{b}-e{i}"), "tenant": if i % 3 == 0 { "globex" } else { "acme" },
                "timestamp": "2026-03-14T15:09:26Z", "category": "hosting", "provider": "aws",
                "service": "ec2", "resource": format!("i-{}", i % 5), "metric": "vcpu_hours",
                "quantity": "1", "unit": "hour", "cost": {"amount": amount.to_string(), "currency": "USD"}
            })
        })
        .collect();
    events.push(json!({
        "id": format!("b{b}-req"), "tenant": "acme", "timestamp": "2026-03-20T08:00:00Z",
        "category": "api", "provider": "internal", "service": "api-gateway", "resource": "gw/public",
        "metric": "requests", "quantity": "123457", "unit": "request"
    }));
    events
}

fn ground_truth(batches: usize, tenant: &str) -> (Decimal, u64) {
    let card =
        RateCard::from_toml(include_str!("../../../deploy/rate-card.toml")).expect("rate card");
    let rate = card
        .rate_for("internal", "api-gateway", "requests")
        .expect("rate");
    let (mut billed, mut n, mut requests) = (Decimal::ZERO, 0u64, Decimal::ZERO);
    for b in 0..batches {
        for e in batch(b).into_iter().filter(|e| e["tenant"] == tenant) {
            n += 1;
            match e["cost"]["amount"].as_str() {
                Some(a) => billed += a.parse::<Decimal>().expect("decimal"),
                None => {
                    requests += e["quantity"]
                        .as_str()
                        .expect("qty")
                        .parse::<Decimal>()
                        .expect("decimal")
                }
            }
        }
    }
    (billed + rate.cumulative_cost(requests).expect("price"), n)
}

async fn totals(client: &reqwest::Client, base: &str, tenant: &str) -> Option<(Decimal, u64)> {
    let q = json!({"query": format!("{{costSummary(tenant:\"{tenant}\",range:{{from:\"2026-03-01T00:00:00Z\",to:\"2026-04-01T00:00:00Z\"}}){{total{{amount}} events}}}}")});
    let v: Value = client
        .post(format!("{base}/graphql"))
        .json(&q)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let s = &v["data"]["costSummary"];
    let events = s["events"]
        .as_u64()
        .or_else(|| s["events"].as_str().and_then(|x| x.parse().ok()))?;
    Some((s["total"]["amount"].as_str()?.parse().ok()?, events))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_instants_loses_and_double_counts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut next_batch = 0usize;
    let mut unacked: Vec<usize> = Vec::new();
    let mut rng_state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: u64| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state % n
    };

    for round in 0..=ROUNDS {
        let mut server = start(dir.path());
        wait_healthy(&client, &server.base).await;
        // Retry what was never acknowledged, and re-send one acknowledged batch as a duplicate.
        let mut todo: Vec<usize> = std::mem::take(&mut unacked);
        if next_batch > 0 {
            todo.push(rand(next_batch as u64) as usize);
        }
        let last_round = round == ROUNDS;
        let killed = Arc::new(AtomicBool::new(false));
        let sender = {
            let (client, base, killed) = (client.clone(), server.base.clone(), killed.clone());
            let fresh = if last_round { 0 } else { 1_000 };
            let first_fresh = next_batch;
            tokio::spawn(async move {
                // Retries first, then fresh batches. On the first failure (the server was killed)
                // stop: that batch and every retry not yet sent stay unacknowledged.
                let queue: Vec<usize> = todo
                    .into_iter()
                    .chain(first_fresh..first_fresh + fresh)
                    .collect();
                for (pos, &id) in queue.iter().enumerate() {
                    let ok = !killed.load(Ordering::SeqCst)
                        && client
                            .post(format!("{base}/v1/events"))
                            .json(&batch(id))
                            .send()
                            .await
                            .is_ok_and(|r| r.status().as_u16() == 202);
                    if !ok {
                        let unsent: Vec<usize> = queue[pos..]
                            .iter()
                            .copied()
                            .filter(|&i| i < first_fresh || i == id)
                            .collect();
                        return (unsent, id.max(first_fresh) + usize::from(id >= first_fresh));
                    }
                }
                (Vec::new(), first_fresh + fresh)
            })
        };
        if last_round {
            let (failed, _) = sender.await.expect("sender");
            assert!(
                failed.is_empty(),
                "the final, unkilled round must ack everything: {failed:?}"
            );
        } else {
            tokio::time::sleep(Duration::from_millis(150 + rand(600))).await;
            killed.store(true, Ordering::SeqCst);
            server.child.kill().expect("kill -9");
            server.child.wait().expect("reap");
            let (failed, b) = sender.await.expect("sender");
            eprintln!(
                "round {round}: killed after batch {b}; {} batch(es) unacknowledged",
                failed.len()
            );
            next_batch = b;
            unacked = failed;
            continue;
        }
        // Final round: wait for the aggregator to catch up, then compare with the ground truth.
        for tenant in ["acme", "globex"] {
            let expected = ground_truth(next_batch, tenant);
            let mut got = None;
            for _ in 0..300 {
                got = totals(&client, &server.base, tenant).await;
                if got == Some(expected) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(
                got,
                Some(expected),
                "{tenant}: totals after {ROUNDS} kill -9 rounds and {next_batch} batches"
            );
        }
    }
    assert!(next_batch > 0, "some batches were sent");
}
