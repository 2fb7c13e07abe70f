//! Distributed-mode processes for tests and benchmarks: fresh topics and keyspace per run, the
//! `costwatch` services as child processes (killed when dropped), small HTTP/GraphQL helpers.
//! Needs Kafka and Cassandra on the addresses in COSTWATCH_KAFKA_BROKERS / COSTWATCH_CQL_NODES
//! (defaults: the dev stack).

#![allow(dead_code)] // each including target uses a different part

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A service process; SIGKILLed when dropped so a failing test leaves nothing running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Stack {
    pub env: Vec<(String, String)>,
    pub collector: String,
    pub gateway: String,
    pub updates_topic: String,
}

impl Stack {
    /// Fresh topics and keyspace, migrated; no service started yet.
    pub fn migrated() -> Stack {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let (collector_http, gateway_http) = (free_port(), free_port());
        let updates_topic = format!("run-updates-{run}");
        let stack = Stack {
            env: vec![
                (
                    "COSTWATCH_KEYSPACE".into(),
                    format!("cw_run_{}", &run[..12]),
                ),
                ("COSTWATCH_USAGE_TOPIC".into(), format!("run-usage-{run}")),
                ("COSTWATCH_UPDATES_TOPIC".into(), updates_topic.clone()),
                ("COSTWATCH_ALERTS_TOPIC".into(), format!("run-alerts-{run}")),
                (
                    "COSTWATCH_ANOMALIES_TOPIC".into(),
                    format!("run-anomalies-{run}"),
                ),
                (
                    "COSTWATCH_DEAD_LETTER_TOPIC".into(),
                    format!("run-dead-letters-{run}"),
                ),
                (
                    "COSTWATCH_DATA_DIR".into(),
                    std::env::temp_dir()
                        .join(format!("costwatch-notifier-{run}"))
                        .display()
                        .to_string(),
                ),
                // Every tenant is evaluated at once after a change; the sweep only catches
                // rollovers, so it can stay long here.
                ("COSTWATCH_ALERT_SWEEP_SECS".into(), "3600".into()),
                // Loopback listeners; auth is covered by the embedded suites (tests/auth.rs).
                ("COSTWATCH_AUTH_MODE".into(), "none".into()),
                // Benchmarks and polling loops send far more than a person would, from one address.
                ("COSTWATCH_RATE_LIMIT_PER_MINUTE".into(), "0".into()),
                (
                    "COSTWATCH_COLLECTOR_HTTP".into(),
                    format!("127.0.0.1:{collector_http}"),
                ),
                (
                    "COSTWATCH_COLLECTOR_GRPC".into(),
                    format!("127.0.0.1:{}", free_port()),
                ),
                (
                    "COSTWATCH_GATEWAY_HTTP".into(),
                    format!("127.0.0.1:{gateway_http}"),
                ),
            ],
            collector: format!("http://127.0.0.1:{collector_http}"),
            gateway: format!("http://127.0.0.1:{gateway_http}"),
            updates_topic,
        };
        let migrated = stack
            .command(&["migrate", "--target", "distributed"])
            .status()
            .expect("run costwatch migrate");
        assert!(
            migrated.success(),
            "costwatch migrate --target distributed failed"
        );
        stack
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_costwatch"));
        c.args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("COSTWATCH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        c
    }

    pub fn spawn(&self, service: &str) -> Proc {
        Proc(
            self.command(&[service])
                .spawn()
                .expect("spawn costwatch service"),
        )
    }
}

pub async fn wait_healthy(client: &reqwest::Client, base: &str) {
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no healthy service at {base}");
}

pub async fn graphql(client: &reqwest::Client, base: &str, query: String) -> Option<Value> {
    let v: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    v.get("data").cloned()
}

/// Events counted for a tenant in November 2026 (what the generators use).
pub async fn counted(client: &reqwest::Client, base: &str, tenant: &str) -> Option<u64> {
    let q = format!(
        "{{costSummary(tenant:\"{tenant}\",range:{{from:\"2026-11-01T00:00:00Z\",to:\"2026-12-01T00:00:00Z\"}}){{events}}}}"
    );
    let data = graphql(client, base, q).await?;
    let e = &data["costSummary"]["events"];
    e.as_u64().or_else(|| e.as_str()?.parse().ok())
}
