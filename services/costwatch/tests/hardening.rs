//! `costwatch up` serves through the HTTP hardening: the per-caller limit set in the config,
//! `/healthz` exempt, and the security headers on the dashboard and API.

mod support;

use serde_json::json;
use support::embedded::Embedded;

#[tokio::test]
async fn the_listener_limits_callers_and_sets_security_headers() {
    let app = Embedded::start(|cfg, _| {
        cfg.rate_limit_per_minute = 60;
        cfg.rate_limit_burst = 3;
    })
    .await;
    let query = || {
        app.client
            .post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "{ tenants }" }))
            .send()
    };
    for _ in 0..3 {
        let resp = query().await.expect("graphql");
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
    }
    let refused = query().await.expect("graphql");
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");

    // Another credential has its own bucket; health checks are never limited.
    let other = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth("another-token")
        .json(&json!({ "query": "{ tenants }" }))
        .send()
        .await
        .expect("graphql");
    assert_ne!(other.status().as_u16(), 429);
    for _ in 0..5 {
        let health = app
            .client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .expect("healthz");
        assert_eq!(health.status().as_u16(), 200);
    }

    // The dashboard page (a fallback route) has the headers too; the address bucket was used up
    // by the anonymous queries above, so wait for one token (1 per second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

/// The gRPC listener has the same per-caller limit (RESOURCE_EXHAUSTED with `retry-after`);
/// health checks are exempt.
#[tokio::test]
async fn the_grpc_listener_limits_callers_too() {
    let app = Embedded::start(|cfg, _| {
        cfg.rate_limit_per_minute = 60;
        cfg.rate_limit_burst = 2;
    })
    .await;
    let addr = app.platform.as_ref().expect("platform").grpc_addr;
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut ingest =
        costwatch_proto::v1::ingest_service_client::IngestServiceClient::new(channel.clone());
    // An empty batch is refused by the collector (INVALID_ARGUMENT) — once the limit let it in.
    for _ in 0..2 {
        let err = ingest
            .ingest(costwatch_proto::v1::IngestRequest { events: vec![] })
            .await
            .expect_err("empty batch");
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err}");
    }
    let limited = ingest
        .ingest(costwatch_proto::v1::IngestRequest { events: vec![] })
        .await
        .expect_err("over the limit");
    assert_eq!(limited.code(), tonic::Code::ResourceExhausted, "{limited}");
    assert!(limited.message().contains("rate limit"), "{limited}");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for _ in 0..4 {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health is never limited");
        assert_eq!(status.into_inner().status, 1, "SERVING");
    }
}
