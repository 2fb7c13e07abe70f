use std::time::Duration;

use costwatch::{Platform, UpConfig};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub struct TestApp {
    pub platform: Option<Platform>,
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn config(dir: &std::path::Path) -> UpConfig {
    UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.to_path_buf(),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // The suites poll every 20-50 ms from one address, faster than any person would.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    spawn_with(config(dir.path()), dir).await
}

pub async fn spawn_with(cfg: UpConfig, dir: tempfile::TempDir) -> TestApp {
    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    TestApp {
        platform: Some(platform),
        base,
        client: reqwest::Client::new(),
        dir,
    }
}

impl TestApp {
    pub fn platform(&self) -> &Platform {
        self.platform.as_ref().expect("running")
    }

    pub async fn post_events(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/events", self.base))
            .json(body)
            .send()
            .await
            .expect("post")
    }

    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let resp = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("graphql");
        resp.json().await.expect("json")
    }

    /// `costSummary.total.amount` over a wide range, as an exact decimal.
    pub async fn total(&self, tenant: &str, currency: &str) -> Decimal {
        let v = self
            .graphql(
                "query($t:String!,$c:String){costSummary(tenant:$t,range:{from:\"2026-01-01T00:00:00Z\",to:\"2026-12-31T00:00:00Z\"},currency:$c){total{amount currency}}}",
                json!({ "t": tenant, "c": currency }),
            )
            .await;
        let amount = v["data"]["costSummary"]["total"]["amount"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"));
        amount.parse().expect("decimal")
    }

    /// Polls until the tenant's total equals `expected` (the aggregator is asynchronous).
    pub async fn wait_for_total(&self, tenant: &str, expected: Decimal) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.total(tenant, "USD").await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "total of {tenant} stayed {got}, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(&mut self) {
        if let Some(p) = self.platform.take() {
            p.stop().await;
        }
    }
}

/// A billed event (cost given), timestamped in 2026.
pub fn billed(tenant: &str, id: &str, amount: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-14T15:09:26Z", "category": "hosting",
        "provider": "aws", "service": "ec2", "resource": "i-0abc", "metric": "vcpu_hours",
        "quantity": "1", "unit": "hour", "cost": { "amount": amount, "currency": "USD" },
        "labels": { "team": "web" }
    })
}

/// An unbilled API event, priced by the default rate card (internal/api-gateway/requests:
/// 1,000,000 free per month, then 0.0000035 each).
pub fn requests(tenant: &str, id: &str, quantity: u64) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": "2026-03-14T16:00:00Z", "category": "api",
        "provider": "internal", "service": "api-gateway", "resource": "gw/public", "metric": "requests",
        "quantity": quantity.to_string(), "unit": "request"
    })
}
