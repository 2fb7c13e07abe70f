//! Retention per tenant end to end: a platform restarted with `retention_tenants.acme = 31`
//! removes acme's history older than 31 days within a sweep, keeps its recent days, and keeps
//! every day of a tenant without a retention setting.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Duration as Days, SecondsFormat, Utc};
use costwatch::{Platform, UpConfig};
use serde_json::{Value, json};
use support::embedded::Embedded;

fn event(tenant: &str, id: &str, at: &str) -> Value {
    json!({
        "id": id, "tenant": tenant, "timestamp": at,
        "category": "hosting", "provider": "aws", "service": "ec2", "resource": "i-1",
        "metric": "vcpu_hours", "quantity": "1", "unit": "hour",
        "cost": {"amount": "2.5", "currency": "USD"}
    })
}

const OLD_FROM: &str = "2024-01-01T00:00:00Z";
const OLD_TO: &str = "2024-02-01T00:00:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_history_goes_and_recent_days_stay() {
    let recent = (Utc::now() - Days::days(2)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let (recent_from, recent_to) = (
        (Utc::now() - Days::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true),
        (Utc::now() + Days::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    // First without retention: everything is counted.
    let mut cw = Embedded::start(|_, _| {}).await;
    cw.ingest(&json!([
        event("acme", "old", "2024-01-10T08:00:00Z"),
        event("acme", "new", &recent),
        event("globex", "old", "2024-01-10T08:00:00Z"),
    ]))
    .await;
    cw.wait_for_events("acme", OLD_FROM, OLD_TO, 1).await;
    cw.wait_for_events("acme", &recent_from, &recent_to, 1)
        .await;
    cw.wait_for_events("globex", OLD_FROM, OLD_TO, 1).await;
    if let Some(p) = cw.platform.take() {
        p.stop().await;
    }

    // Restarted on the same data with a retention for acme only.
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: cw.path("data"),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        rate_limit_per_minute: 0,
        retention_tenants: BTreeMap::from([("acme".to_string(), 31)]),
        retention_sweep_secs: 1,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform restarts");
    cw.base = platform.http_url();
    cw.platform = Some(platform);

    cw.wait_for_events("acme", OLD_FROM, OLD_TO, 0).await;
    assert_eq!(cw.events("acme", &recent_from, &recent_to).await, 1);
    // The month total holding the cutoff is kept whole; January 2024 is wholly expired.
    let months = cw
        .graphql(
            &format!(r#"{{costHistory(tenant:"acme",range:{{from:"{OLD_FROM}",to:"{recent_to}"}},granularity:MONTH){{bucket}}}}"#),
            json!({}),
        )
        .await;
    let points = months["data"]["costHistory"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{months}"));
    assert!(!points.is_empty(), "the recent month is kept: {months}");
    assert!(
        points
            .iter()
            .all(|p| !p["bucket"].as_str().unwrap_or("").starts_with("2024")),
        "{months}"
    );
    // A sweep later, globex (no retention) still has its 2024 day.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(cw.events("globex", OLD_FROM, OLD_TO).await, 1);
}

#[tokio::test]
async fn a_too_short_retention_is_refused_by_name() {
    let cfg = UpConfig {
        retention_days: 7,
        retention_tenants: BTreeMap::from([("acme".to_string(), 3)]),
        ..UpConfig::default()
    };
    let problems = cfg.validate().expect_err("too short");
    assert!(
        problems.iter().any(|p| p.starts_with("retention_days: 7")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("retention_tenants.acme: 3")),
        "{problems:?}"
    );
}
