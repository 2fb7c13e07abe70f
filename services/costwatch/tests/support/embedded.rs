//! The whole embedded platform in-process for end-to-end tests: a fresh data dir, free ports,
//! and small helpers to ingest, query GraphQL, run the real `costwatch` binary and wait.

#![allow(dead_code)] // each including target uses a different part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use costwatch::{Platform, UpConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub struct Embedded {
    pub platform: Option<Platform>,
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl Embedded {
    /// Starts `costwatch up` (no demo data) with `adjust` applied to its config.
    pub async fn start(adjust: impl FnOnce(&mut UpConfig, &Path)) -> Embedded {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = UpConfig {
            http: "127.0.0.1:0".parse().expect("addr"),
            grpc: "127.0.0.1:0".parse().expect("addr"),
            data_dir: dir.path().join("data"),
            demo: false,
            auth: costwatch::auth::AuthSettings::disabled(),
            // These suites poll in tight loops; the limiter has its own tests.
            rate_limit_per_minute: 0,
            ..UpConfig::default()
        };
        adjust(&mut cfg, dir.path());
        let platform = Platform::start(cfg).await.expect("platform starts");
        Embedded {
            base: format!("http://{}", platform.http_addr),
            platform: Some(platform),
            client: reqwest::Client::new(),
            dir,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `POST /v1/events`; asserts 202.
    pub async fn ingest(&self, events: &Value) {
        let resp = self
            .client
            .post(format!("{}/v1/events", self.base))
            .json(events)
            .send()
            .await
            .expect("post events");
        let status = resp.status().as_u16();
        assert_eq!(status, 202, "{}", resp.text().await.unwrap_or_default());
    }

    /// A GraphQL request that must succeed without errors.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let v: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("graphql")
            .json()
            .await
            .expect("json");
        assert!(v.get("errors").is_none(), "{v}");
        v
    }

    /// Events counted for `tenant` in `[from, to)`.
    pub async fn events(&self, tenant: &str, from: &str, to: &str) -> u64 {
        let v = self
            .graphql(
                "query($t:String!,$f:DateTime!,$to:DateTime!){costSummary(tenant:$t,range:{from:$f,to:$to}){events}}",
                json!({"t": tenant, "f": from, "to": to}),
            )
            .await;
        v["data"]["costSummary"]["events"]
            .as_u64()
            .unwrap_or_else(|| panic!("{v}"))
    }

    /// Waits (≤ 60 s) until `tenant` has exactly `expected` events in `[from, to)`.
    pub async fn wait_for_events(&self, tenant: &str, from: &str, to: &str, expected: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.events(tenant, from, to).await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{tenant} stayed at {got} events, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Posts one billed event for tenant `name` and waits until it is counted: the embedded log
    /// is read in order, so everything sent before it has been aggregated by then.
    pub async fn barrier(&self, name: &str) {
        let at = "2024-01-15T00:00:00Z";
        self.ingest(&json!([{
            "id": name, "tenant": name, "timestamp": at, "category": "other",
            "provider": "test", "service": "barrier", "resource": "r", "metric": "m",
            "quantity": "1", "unit": "u", "cost": {"amount": "1", "currency": "USD"}
        }]))
        .await;
        self.wait_for_events(name, at, "2024-01-16T00:00:00Z", 1)
            .await;
    }

    /// Runs the real binary with `args` plus `--server <this platform>` (blocking, so off the
    /// runtime the server runs on).
    pub async fn run_cli(&self, args: &[&str]) -> Output {
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--server".to_string(), self.base.clone()]);
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_costwatch"))
                .args(&args)
                .env("COSTWATCH_LOG", "warn")
                .output()
                .expect("run costwatch")
        })
        .await
        .expect("join")
    }
}

/// An exact decimal from a GraphQL `Money` object.
pub fn amount(money: &Value) -> Decimal {
    money["amount"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no decimal amount in {money}"))
}
